package secretadapters

import "testing"

func TestLastPass(t *testing.T) {
	version := reply{args: "--version", stdout: "LastPass CLI v1.6.0"}
	status := reply{args: "status --color never", stdout: "Logged in as me@example.com."}
	items := `[
  {"id": "1", "name": "SECRET1", "fullname": "SECRET1", "username": "", "password": "sv-1", "group": "", "url": "", "note": ""},
  {"id": "2", "name": "FSECRET1", "fullname": "FOLDER1/FSECRET1", "username": "", "password": "sv-f1", "group": "FOLDER1"}
]`
	runAdapterCases(t, "lastpass", "lpass", []adapterCase{
		{name: "items by full name", req: Request{Account: "me@example.com", Items: []string{"SECRET1", "FOLDER1/FSECRET1"}},
			replies: []reply{version, status, {args: "show SECRET1 FOLDER1/FSECRET1 --json", stdout: items}},
			want:    map[string]string{"SECRET1": "sv-1", "FOLDER1/FSECRET1": "sv-f1"}},
		{name: "not logged in and login fails", req: Request{Account: "me@example.com", Items: []string{"SECRET1"}}, wantErr: ErrNotLoggedIn,
			replies: []reply{version, {args: "status --color never", stdout: "Not logged in.", exit: 1},
				{args: "login me@example.com", stderr: "Error: Failed to enter correct password.", exit: 1}}},
		{name: "item missing", req: Request{Account: "me@example.com", Items: []string{"NOPE"}}, wantErr: ErrNotFound,
			replies: []reply{version, status, {args: "show NOPE --json", stderr: "Error: Could not find specified account(s).", exit: 1}}},
		{name: "one of several missing", req: Request{Account: "me@example.com", Items: []string{"SECRET1", "FOLDER1/FSECRET1", "GONE"}}, wantErr: ErrNotFound,
			replies: []reply{version, status, {args: "show SECRET1 FOLDER1/FSECRET1 GONE --json", stdout: items}}},
	})
}

func TestPassbolt(t *testing.T) {
	version := reply{args: "--version", stdout: "passbolt version v0.3.2"}
	verify := reply{args: "verify", stdout: "Verify OK"}
	runAdapterCases(t, "passbolt", "passbolt", []adapterCase{
		{name: "root secrets", req: Request{Items: []string{"SECRET1", "SECRET2"}},
			replies: []reply{version, verify, {args: `list resources --filter Name == "SECRET1" || Name == "SECRET2" --column name --column password --json`,
				stdout: `[{"id": "a", "folder_parent_id": "", "name": "SECRET2", "password": "sv-2"}, {"id": "b", "folder_parent_id": "", "name": "SECRET1", "password": "sv-1"}]`}},
			want: map[string]string{"SECRET1": "sv-1", "SECRET2": "sv-2"}},
		{name: "nested folder from --from", req: Request{From: "proj/prod", Items: []string{"DB"}},
			replies: []reply{version, verify,
				{args: `list folders --filter Name == "proj" --json`, stdout: `[{"id": "f1", "folder_parent_id": "", "name": "proj"}]`},
				{args: `list folders --filter Name == "prod" && FolderParentID == "f1" --json`, stdout: `[{"id": "f2", "folder_parent_id": "f1", "name": "prod"}]`},
				{args: `list resources --filter (Name == "DB" && FolderParentID == "f2") --folder f2 --column name --column password --json`,
					stdout: `[{"id": "r", "folder_parent_id": "f2", "name": "DB", "password": "sv-db"}]`}},
			want: map[string]string{"DB": "sv-db"}},
		{name: "not logged in", req: Request{Items: []string{"SECRET1"}}, wantErr: ErrNotLoggedIn,
			replies: []reply{version, {args: "verify", stderr: "Error: Checking Server: Doing Login: Unable to decrypt: openpgp: incorrect key", exit: 1}}},
		{name: "secret missing", req: Request{Items: []string{"NOPE"}}, wantErr: ErrNotFound,
			replies: []reply{version, verify, {args: `list resources --filter Name == "NOPE" --column name --column password --json`, stdout: "[]"}}},
		{name: "folder missing", req: Request{Items: []string{"gone/DB"}}, wantErr: ErrNotFound,
			replies: []reply{version, verify, {args: `list folders --filter Name == "gone" --json`, stdout: "[]"}}},
	})
}

func TestEnpass(t *testing.T) {
	version := reply{args: "version", stdout: "enpass-cli v1.6.2"}
	show := reply{args: "-json -vault /vaults/primary show FooBar", stdout: `[
  {"category":"computer","label":"SECRET_1","login":"","password":"sv-1","title":"FooBar","type":"password"},
  {"category":"computer","label":"SECRET_2","login":"","password":"sv-2","title":"FooBar","type":"password"},
  {"category":"computer","label":"","login":"","password":"sv-3","title":"FooBar","type":"password"}
]`}
	runAdapterCases(t, "enpass", "enpass-cli", []adapterCase{
		{name: "one label", req: Request{From: "/vaults/primary", Items: []string{"FooBar/SECRET_1"}},
			replies: []reply{version, show}, want: map[string]string{"FooBar/SECRET_1": "sv-1"}},
		{name: "every password of an item", req: Request{From: "/vaults/primary", Items: []string{"FooBar"}},
			replies: []reply{version, show}, want: map[string]string{"FooBar/SECRET_1": "sv-1", "FooBar/SECRET_2": "sv-2", "FooBar": "sv-3"}},
		{name: "label missing", req: Request{From: "/vaults/primary", Items: []string{"FooBar/NOPE"}}, wantErr: ErrNotFound,
			replies: []reply{version, show}},
		{name: "no vault", req: Request{Items: []string{"FooBar"}}, wantErr: ErrUsage, replies: []reply{version}},
	})
}

func TestHashiCorpVault(t *testing.T) {
	version := reply{args: "version", stdout: "Vault v1.17.2 (a4b5c6d), built 2024-07-05T15:19:12Z"}
	token := reply{args: "token lookup -format=json", stdout: `{"data": {"display_name": "token", "policies": ["app"]}}`}
	kv2 := `{"request_id": "1", "lease_id": "", "lease_duration": 0, "renewable": false,
  "data": {"data": {"DB_PASSWORD": "sv-db", "PORT": 5432}, "metadata": {"created_time": "2024-07-01T00:00:00Z", "version": 3}}, "warnings": null}`
	runAdapterCases(t, "vault", "vault", []adapterCase{
		{name: "kv v2 with --from", req: Request{From: "secret/myapp", Items: []string{"DB_PASSWORD", "PORT"}},
			replies: []reply{version, token, {args: "kv get -format=json secret/myapp", stdout: kv2}},
			want:    map[string]string{"secret/myapp/DB_PASSWORD": "sv-db", "secret/myapp/PORT": "5432"}},
		{name: "kv v1, PATH/FIELD items", req: Request{Items: []string{"kv/app/TOKEN"}},
			replies: []reply{version, token, {args: "kv get -format=json kv/app", stdout: `{"request_id": "2", "data": {"TOKEN": "sv-tok"}}`}},
			want:    map[string]string{"kv/app/TOKEN": "sv-tok"}},
		{name: "not logged in", req: Request{Items: []string{"secret/myapp/X"}}, wantErr: ErrNotLoggedIn,
			replies: []reply{version, {args: "token lookup -format=json", stderr: "Error looking up token: Error making API request.\n\nCode: 403. Errors:\n\n* permission denied", exit: 2}}},
		{name: "path missing", req: Request{Items: []string{"secret/nope/X"}}, wantErr: ErrNotFound,
			replies: []reply{version, token, {args: "kv get -format=json secret/nope", stderr: "No value found at secret/data/nope", exit: 2}}},
		{name: "field missing", req: Request{Items: []string{"secret/myapp/NOPE"}}, wantErr: ErrNotFound,
			replies: []reply{version, token, {args: "kv get -format=json secret/myapp", stdout: kv2}}},
		{name: "item without a field", req: Request{Items: []string{"secret"}}, wantErr: ErrUsage, replies: []reply{version, token}},
	})
}

package secretadapters

import "testing"

func TestOnePassword(t *testing.T) {
	version := reply{args: "--version", stdout: "2.30.0"}
	signedIn := reply{args: "account get --account acme", stdout: "ID: ABC"}
	signedOut := reply{args: "account get --account acme", stderr: `[ERROR] 2024/06/01 10:00:00 account is not signed in`, exit: 1}
	const get = "item get Item --vault Vault --format json --account acme"
	twoFields := `[
  {"id": "a1", "type": "CONCEALED", "label": "DB_PASSWORD", "value": "sv-db", "reference": "op://Vault/Item/DB_PASSWORD"},
  {"id": "a2", "type": "CONCEALED", "label": "RAILS_MASTER_KEY", "value": "sv-mk", "reference": "op://Vault/Item/RAILS_MASTER_KEY"}
]`
	oneField := `{"id": "a1", "type": "CONCEALED", "label": "DB_PASSWORD", "value": "sv-db", "reference": "op://Vault/Item/DB_PASSWORD"}`
	issue := Request{Account: "acme", From: "Vault/Item", Items: []string{"DB_PASSWORD", "RAILS_MASTER_KEY"}}
	runAdapterCases(t, "1password", "op", []adapterCase{
		{name: "the issue's pattern", req: issue,
			replies: []reply{version, signedIn, {args: get + " --fields label=DB_PASSWORD,label=RAILS_MASTER_KEY", stdout: twoFields}},
			want:    map[string]string{"Vault/Item/DB_PASSWORD": "sv-db", "Vault/Item/RAILS_MASTER_KEY": "sv-mk"}},
		{name: "one field comes back as an object",
			req:     Request{Account: "acme", From: "op://Vault/Item", Items: []string{"DB_PASSWORD"}},
			replies: []reply{version, signedIn, {args: get + " --fields label=DB_PASSWORD", stdout: oneField}},
			want:    map[string]string{"Vault/Item/DB_PASSWORD": "sv-db"}},
		{name: "sign in, session passed, password field keyed without /password",
			req: Request{Account: "acme", Items: []string{"Vault/Item"}},
			replies: []reply{version, signedOut, {args: "signin --account acme --force --raw", stdout: "tok123"},
				{args: get + " --session tok123 --fields label=password", stdout: `{"label": "password", "value": "sv-pw", "reference": "op://Vault/Item/password"}`}},
			want: map[string]string{"Vault/Item": "sv-pw"}},
		{name: "section fields", req: Request{Account: "acme", From: "Vault/Item", Items: []string{"prod/DB_PASSWORD"}},
			replies: []reply{version, signedIn, {args: get + " --fields label=prod.DB_PASSWORD",
				stdout: `{"label": "DB_PASSWORD", "section": {"label": "prod"}, "value": "sv-s", "reference": "op://Vault/Item/prod/DB_PASSWORD"}`}},
			want: map[string]string{"Vault/Item/prod/DB_PASSWORD": "sv-s"}},
		{name: "fetch all fields of --from", req: Request{Account: "acme", From: "Vault/Item"},
			replies: []reply{version, signedIn, {args: get, stdout: `{"id": "x", "title": "Item", "fields": ` + twoFields + `}`}},
			want:    map[string]string{"Vault/Item/DB_PASSWORD": "sv-db", "Vault/Item/RAILS_MASTER_KEY": "sv-mk"}},
		{name: "not signed in and signin fails", req: issue, wantErr: ErrNotLoggedIn,
			replies: []reply{version, signedOut, {args: "signin --account acme --force --raw", stderr: "[ERROR] 2024/06/01 10:00:01 authorization prompt dismissed, please try again", exit: 1}}},
		{name: "item missing", req: issue, wantErr: ErrNotFound,
			replies: []reply{version, signedIn, {args: get + " --fields label=DB_PASSWORD,label=RAILS_MASTER_KEY",
				stderr: `[ERROR] 2024/06/01 10:00:02 "Item" isn't an item in the "Vault" vault. Specify the item with its UUID, name, or domain.`, exit: 1}}},
		{name: "field missing", req: issue, wantErr: ErrNotFound,
			replies: []reply{version, signedIn, {args: get + " --fields label=DB_PASSWORD,label=RAILS_MASTER_KEY", stdout: "[" + oneField + "]"}}},
	})
}

package secretadapters

import "testing"

func TestBitwarden(t *testing.T) {
	version := reply{args: "--version", stdout: "2024.8.1"}
	status := func(prefix, st string) reply {
		return reply{args: prefix + "status", stdout: `{"serverUrl":null,"lastSync":"2024-09-04T10:11:12.433Z","userEmail":"me@example.com","status":"` + st + `"}`}
	}
	sync := reply{args: "sync", stdout: "Syncing complete."}
	login := reply{args: "get item mypassword", stdout: `{"object":"item","type":1,"name":"mypassword","login":{"username":null,"password":"sv-123","totp":null}}`}
	withFields := reply{args: "get item myitem", stdout: `{"object":"item","type":1,"name":"myitem","fields":[{"name":"field1","value":"sv-1","type":1},{"name":"field2","value":"sv-2","type":1}],"login":{"username":null,"password":null}}`}
	acct := func(items ...string) Request { return Request{Account: "me@example.com", Items: items} }
	runAdapterCases(t, "bitwarden", "bw", []adapterCase{
		{name: "login password and fields", req: acct("mypassword", "myitem/field1", "myitem/field2"),
			replies: []reply{version, status("", "unlocked"), sync, login, withFields},
			want:    map[string]string{"mypassword": "sv-123", "myitem/field1": "sv-1", "myitem/field2": "sv-2"}},
		{name: "every field of an item without a password", req: acct("myitem"),
			replies: []reply{version, status("", "unlocked"), sync, withFields},
			want:    map[string]string{"myitem/field1": "sv-1", "myitem/field2": "sv-2"}},
		{name: "locked: unlock gives the session, used from then on", req: acct("mypassword"),
			replies: []reply{version, status("", "locked"), {args: "unlock --raw", stdout: "sess9"},
				status("BW_SESSION=sess9 ", "unlocked"), {args: "BW_SESSION=sess9 sync"}, {args: "BW_SESSION=sess9 " + login.args, stdout: login.stdout}},
			want: map[string]string{"mypassword": "sv-123"}},
		{name: "not logged in and login fails", req: acct("mypassword"), wantErr: ErrNotLoggedIn,
			replies: []reply{version, status("", "unauthenticated"), {args: "login me@example.com", stderr: "Username or password is incorrect. Try again.", exit: 1}}},
		{name: "item missing", req: acct("nope"), wantErr: ErrNotFound,
			replies: []reply{version, status("", "unlocked"), sync, {args: "get item nope", stderr: "Not found.", exit: 1}}},
		{name: "field missing", req: acct("myitem/field9"), wantErr: ErrNotFound,
			replies: []reply{version, status("", "unlocked"), sync, withFields}},
		{name: "a note without fields", req: acct("mynote"), wantErr: ErrNotFound,
			replies: []reply{version, status("", "unlocked"), sync, {args: "get item mynote", stdout: `{"object":"item","type":2,"name":"mynote","notes":"NOTES","secureNote":{"type":0}}`}}},
	})
}

func TestBitwardenSecretsManager(t *testing.T) {
	version := reply{args: "--version", stdout: "bws 1.0.0"}
	token := reply{args: "project list", stdout: `[{"id":"p1","name":"app"}]`}
	list := `[{"key":"KAMAL_REGISTRY_PASSWORD","value":"sv-reg"},{"key":"MY_OTHER_SECRET","value":"sv-my=wierd\"secret"}]`
	both := map[string]string{"KAMAL_REGISTRY_PASSWORD": "sv-reg", "MY_OTHER_SECRET": `sv-my=wierd"secret`}
	runAdapterCases(t, "bitwarden-sm", "bws", []adapterCase{
		{name: "all", req: Request{Items: []string{"all"}}, replies: []reply{version, token, {args: "secret list", stdout: list}}, want: both},
		{name: "all of a project", req: Request{From: "82aeb5bd", Items: []string{"all"}},
			replies: []reply{version, token, {args: "secret list 82aeb5bd", stdout: list}}, want: both},
		{name: "by id, value with a line break", req: Request{Items: []string{"82aeb5bd"}},
			replies: []reply{version, token, {args: "secret get 82aeb5bd", stdout: `{"key":"SSH_PRIVATE_KEY","value":"sv-key\nline2"}`}},
			want:    map[string]string{"SSH_PRIVATE_KEY": "sv-key\nline2"}},
		{name: "no valid access token", req: Request{Items: []string{"all"}}, wantErr: ErrNotLoggedIn,
			replies: []reply{version, {args: "project list", stderr: "Error:\n   0: Access token is not in a valid format: Doesn't contain a decryption key", exit: 1}}},
		{name: "secret missing", req: Request{Items: []string{"82aeb5bd"}}, wantErr: ErrNotFound,
			replies: []reply{version, token, {args: "secret get 82aeb5bd", stderr: "Error:\n   0: Received error message from server: [404 Not Found] {\"message\":\"Resource not found.\"}", exit: 1}}},
		{name: "nothing named", req: Request{}, wantErr: ErrUsage, replies: []reply{version, token}},
	})
}

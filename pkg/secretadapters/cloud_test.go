package secretadapters

import "testing"

func TestAWSSecretsManager(t *testing.T) {
	version := reply{args: "--version", stdout: "aws-cli/2.17.0 Python/3.11.8 Linux/6.1 exe/x86_64"}
	const get = "secretsmanager batch-get-secret-value --secret-id-list "
	values := `{"SecretValues": [
  {"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:secret", "Name": "secret", "SecretString": "{\"KEY1\":\"sv-1\", \"PORT\": 5432}"},
  {"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:secret2", "Name": "secret2", "SecretString": "sv-plain"}
], "Errors": []}`
	runAdapterCases(t, "aws_secrets_manager", "aws", []adapterCase{
		{name: "JSON and plain secrets, with a profile", req: Request{Account: "prod", Items: []string{"secret", "secret2"}},
			replies: []reply{version, {args: get + "secret secret2 --profile prod --output json", stdout: values}},
			want:    map[string]string{"secret/KEY1": "sv-1", "secret/PORT": "5432", "secret2": "sv-plain"}},
		{name: "--from prefixes, no profile", req: Request{From: "app", Items: []string{"DB"}},
			replies: []reply{version, {args: get + "app/DB --output json", stdout: `{"SecretValues":[{"Name":"app/DB","SecretString":"sv-db"}],"Errors":[]}`}},
			want:    map[string]string{"app/DB": "sv-db"}},
		{name: "secret missing", req: Request{Items: []string{"unknown1"}}, wantErr: ErrNotFound,
			replies: []reply{version, {args: get + "unknown1 --output json", stdout: `{"SecretValues": [], "Errors": [{"SecretId": "unknown1", "ErrorCode": "ResourceNotFoundException", "Message": "Secrets Manager can't find the specified secret."}]}`}}},
		{name: "no credentials", req: Request{Items: []string{"secret"}}, wantErr: ErrNotLoggedIn,
			replies: []reply{version, {args: get + "secret --output json", stderr: `Unable to locate credentials. You can configure credentials by running "aws configure".`, exit: 253}}},
	})
}

func TestGCPSecretManager(t *testing.T) {
	version := reply{args: "--version", stdout: "Google Cloud SDK 480.0.0"}
	authed := reply{args: "auth list --format=json", stdout: `[{"account": "me@example.com", "status": "ACTIVE"}]`}
	payload := func(b64 string) string {
		return `{"name": "projects/1/secrets/x/versions/1", "payload": {"data": "` + b64 + `", "dataCrc32c": "1"}}`
	}
	runAdapterCases(t, "gcp", "gcloud", []adapterCase{
		{name: "default project, latest", req: Request{Account: "default", Items: []string{"mypassword"}},
			replies: []reply{version, authed, {args: "secrets versions access latest --secret=mypassword --format=json", stdout: payload("c3Ytc2VjcmV0MTIz")}},
			want:    map[string]string{"default/mypassword": "sv-secret123"}},
		{name: "project, version, user and impersonation", req: Request{Account: "me@example.com|sa@example.com", Items: []string{"proj/item1/123"}},
			replies: []reply{version, authed, {args: "secrets versions access 123 --secret=item1 --project=proj --account=me@example.com --impersonate-service-account=sa@example.com --format=json", stdout: payload("c3YtMQ==")}},
			want:    map[string]string{"proj/item1": "sv-1"}},
		{name: "not logged in and login fails", req: Request{Account: "default", Items: []string{"x"}}, wantErr: ErrNotLoggedIn,
			replies: []reply{version, {args: "auth list --format=json", stdout: "[]"}, {args: "auth login", stderr: "ERROR: (gcloud.auth.login) There was a problem with web authentication.", exit: 1}}},
		{name: "secret missing", req: Request{Account: "default", Items: []string{"nope"}}, wantErr: ErrNotFound,
			replies: []reply{version, authed, {args: "secrets versions access latest --secret=nope --format=json",
				stderr: "ERROR: (gcloud.secrets.versions.access) NOT_FOUND: Secret [projects/1/secrets/nope] not found or has no versions.", exit: 1}}},
	})
}

func TestDoppler(t *testing.T) {
	version := reply{args: "--version", stdout: "v3.69.0"}
	me := reply{args: "me --json", stdout: `{"name": "me", "type": "personal"}`}
	both := `{"SECRET1": {"computed": "sv-1", "computedVisibility": "unmasked", "note": ""}, "SECRET2": {"computed": "sv-2", "note": ""}}`
	want := map[string]string{"SECRET1": "sv-1", "SECRET2": "sv-2"}
	runAdapterCases(t, "doppler", "doppler", []adapterCase{
		{name: "--from project/config", req: Request{From: "app/prd", Items: []string{"SECRET1", "SECRET2"}},
			replies: []reply{version, me, {args: "secrets get SECRET1 SECRET2 --json -p app -c prd", stdout: both}}, want: want},
		{name: "service token fixes project and config", req: Request{Items: []string{"SECRET1", "SECRET2"}, Env: []string{"PATH=" + pathEnv(), "DOPPLER_TOKEN=dp.st.xxxx"}},
			replies: []reply{version, me, {args: "secrets get SECRET1 SECRET2 --json", stdout: both}}, want: want},
		{name: "no project", req: Request{Items: []string{"SECRET1"}, Env: []string{"PATH=" + pathEnv()}}, wantErr: ErrUsage, replies: []reply{version, me}},
		{name: "not logged in and login fails", req: Request{From: "app/prd", Items: []string{"SECRET1"}}, wantErr: ErrNotLoggedIn,
			replies: []reply{version, {args: "me --json", stderr: "Doppler Error: you must provide a token", exit: 1}, {args: "login -y", stderr: "Doppler Error: unable to authenticate", exit: 1}}},
		{name: "secret missing", req: Request{From: "app/prd", Items: []string{"NOPE"}}, wantErr: ErrNotFound,
			replies: []reply{version, me, {args: "secrets get NOPE --json -p app -c prd", stderr: "Doppler Error: Could not find requested secret: NOPE", exit: 1}}},
	})
}

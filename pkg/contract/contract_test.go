package contract

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRunArgs(t *testing.T) {
	got := RunArgs("1.2.3", "kamal", "127.0.0.1:9321")
	want := []string{"run", "-d", "--name", "kamal-sidecar", "--restart", "unless-stopped", "--pid", "host",
		"--label", "kamal.sidecar=1.2.3",
		"-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", "/run/kamal:/run/kamal", "-v", "/var/lib/kamal:/var/lib/kamal",
		"--network", "kamal", "-p", "127.0.0.1:9321:9321", "kamal-sidecar:1.2.3", "--monitor-addr", "0.0.0.0:9321"}
	if !slices.Equal(got, want) {
		t.Errorf("RunArgs =\n%q\nwant\n%q", got, want)
	}
	unpublished := RunArgs("1.2.3", "kamal", "")
	if slices.Contains(unpublished, "-p") || unpublished[len(unpublished)-1] != DefaultMonitorAddr {
		t.Errorf("RunArgs without monitor addr = %q", unpublished)
	}
	if p := publishSpec(":9400"); p != "9400:9321" {
		t.Errorf("publishSpec(:9400) = %q", p)
	}
}

func TestReadEvents(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		events  int
		version string
		err     error
	}{
		{"result", `{"step":"a","status":"start"}` + "\n" + `{"status":"end","result":{"service":"s","role":"r","version":"v2","container":"c","duration":"1s"}}` + "\n", 1, "v2", nil},
		{"error", `{"status":"end","error":{"code":"deploy_failed","message":"m","step":"wait_healthy","logs":["x"]}}`, 0, "", ErrDeployFailed},
		{"truncated", `{"step":"a","status":"start"}` + "\n", 1, "", ErrStreamTruncated},
		{"empty", ``, 0, "", ErrStreamTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			res, err := ReadEvents(strings.NewReader(tt.stream), func(Event) { n++ })
			if n != tt.events {
				t.Errorf("events = %d, want %d", n, tt.events)
			}
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || res.Version != tt.version {
				t.Fatalf("result = %+v, %v", res, err)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Code: CodeDeployFailed, Message: "app-web-v3 never became healthy", Step: "wait_healthy", Logs: []string{"panic: db"}}
	if s := e.Error(); !strings.Contains(s, "wait_healthy") || !strings.Contains(s, "panic: db") {
		t.Errorf("Error() = %q", s)
	}
	if errors.Is(e, ErrLockHeld) || !errors.Is(e, ErrDeployFailed) {
		t.Errorf("Is matches by code only")
	}
}

func TestValidateNamesFields(t *testing.T) {
	tests := []struct {
		v     interface{ Validate() error }
		field string
	}{
		{&RollbackRequest{Role: Role{Service: "a", Role: "web"}, Version: ""}, "version"},
		{&LockRequest{Holder: strings.Repeat("x", MaxLockText+1)}, "holder"},
		{&AuditEntry{Who: "a", Action: "x", Details: map[string]string{"k": strings.Repeat("v", MaxAuditText)}}, "details.k"},
		{&TraefikRequest{Image: "t", ACME: &ACME{Resolver: "le", Email: "a@b", Challenge: "dns"}}, "acme.challenge"},
		{&TraefikRequest{Image: "t", Env: map[string]string{"A=B": "x"}}, "env.A=B"},
		{&TraefikRequest{Image: "t", ACME: &ACME{Resolver: "le", Email: "a@b", CAServer: "http://ca/dir"}}, "acme.caServer"},
		{&TraefikRequest{Image: "t", ACME: &ACME{Resolver: "le", Email: "a@b", CACertificates: "not pem"}}, "acme.caCertificates"},
		{&TraefikRequest{Image: "t", ACME: &ACME{Resolver: "le", Email: "a@b",
			CACertificates: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n"}}, "acme.caCertificates"},
	}
	for _, tt := range tests {
		err := tt.v.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tt.field+":") {
			t.Errorf("%T: err = %v, want field %s", tt.v, err, tt.field)
		}
	}
}

package configcmd

import (
	"errors"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	lines := secretLines([]string{"A", "B"}, func(n string) string { return "v-" + n }, false)
	if lines != "A=[REDACTED]\nB=[REDACTED]\n" {
		t.Errorf("redacted print = %q", lines)
	}
	if got := secretLines([]string{"A"}, func(n string) string { return "v-" + n }, true); got != "A=v-A\n" {
		t.Errorf("revealed print = %q", got)
	}
	js := `{"vault/item/DB_PASSWORD":"p1","TOKEN":"t1"}`
	for name, want := range map[string]string{"DB_PASSWORD": "p1", "TOKEN": "t1"} {
		if got, err := extractSecret(js, name); err != nil || got != want {
			t.Errorf("extract %s = %q, %v", name, got, err)
		}
	}
	if _, err := extractSecret(js, "NOPE"); !errors.Is(err, ErrSecretNotFound) || strings.Contains(err.Error(), "p1") {
		t.Errorf("missing secret: err %v (must not leak values)", err)
	}
	tests := []struct {
		adapter, from, name string
		want                string
	}{
		{"command", "vault read {} --raw", "DB", "sh -c vault read DB --raw"},
		{"command", "printenv", "it's", `sh -c printenv 'it'\''s'`},
		{"pass", "app/prod", "DB", "pass show app/prod/DB"},
	}
	for _, tt := range tests {
		argv, err := adapterCommand(tt.adapter, tt.from, tt.name)
		if err != nil || strings.Join(argv, " ") != tt.want {
			t.Errorf("adapterCommand(%s, %q, %q) = %q, %v; want %q", tt.adapter, tt.from, tt.name, argv, err, tt.want)
		}
	}
	if _, err := adapterCommand("vault9", "", "X"); !errors.Is(err, ErrUnknownAdapter) {
		t.Error("unknown adapter accepted")
	}
	if got := adapterValue("pass", "pw\nurl: x\n"); got != "pw" {
		t.Errorf("pass value = %q", got)
	}
	if got := adapterValue("command", "a b\n"); got != "a b" {
		t.Errorf("command value = %q", got)
	}
}

package hooks

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeHook(t *testing.T, dir, name, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), mode); err != nil {
		t.Fatal(err)
	}
}

func TestRunPassesKamalEnv(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "pre-deploy", `echo "$KAMAL_SERVICE $KAMAL_VERSION $KAMAL_HOSTS $KAMAL_DESTINATION $KAMAL_ROLES $KAMAL_PERFORMER"`, 0o755)
	var out bytes.Buffer
	r := &Runner{Dir: dir, Stdout: &out}
	ran, err := r.Run(context.Background(), "pre-deploy", Env{Service: "app", Version: "abc", Hosts: []string{"h1", "h2"}, Destination: "staging", Roles: []string{"web"}, Performer: "me"})
	if err != nil || !ran {
		t.Fatalf("ran=%v err=%v", ran, err)
	}
	if got, want := strings.TrimSpace(out.String()), "app abc h1,h2 staging web me"; got != want {
		t.Fatalf("hook saw %q, want %q", got, want)
	}
}

func TestRunFailureAborts(t *testing.T) {
	dir := t.TempDir()
	writeHook(t, dir, "pre-build", "echo nope >&2; exit 4", 0o755)
	_, err := (&Runner{Dir: dir}).Run(context.Background(), "pre-build", Env{})
	var he *HookError
	if !errors.As(err, &he) || he.Code != 4 || !strings.Contains(he.Output, "nope") {
		t.Fatalf("want HookError code 4 with output, got %v", err)
	}
}

func TestRunMissingSkippedAndNonExecutable(t *testing.T) {
	dir := t.TempDir()
	ran, err := (&Runner{Dir: dir}).Run(context.Background(), "post-deploy", Env{})
	if ran || err != nil {
		t.Fatalf("missing hook: ran=%v err=%v", ran, err)
	}
	writeHook(t, dir, "post-deploy", "exit 0", 0o644)
	if _, err := (&Runner{Dir: dir}).Run(context.Background(), "post-deploy", Env{}); !errors.Is(err, ErrNotExecutable) {
		t.Fatalf("non-executable hook: %v", err)
	}
	writeHook(t, dir, "pre-deploy", "exit 1", 0o755)
	if ran, err := (&Runner{Dir: dir, Skip: true}).Run(context.Background(), "pre-deploy", Env{}); ran || err != nil {
		t.Fatalf("skip: ran=%v err=%v", ran, err)
	}
}

// Kamal's variables: KAMAL_SERVICE_VERSION abbreviates the version to 7
// characters (not an _uncommitted_ one), unset details are left out,
// KAMAL_LOCK and the secrets are passed.
func TestVarsAsKamal(t *testing.T) {
	vars := func(e Env) map[string]string {
		m := map[string]string{}
		for _, kv := range e.Vars() {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		return m
	}
	m := vars(Env{Service: "app", Version: "0123456789abcdef", Hosts: []string{"h1"}, Lock: "true",
		Command: "deploy", Runtime: 1500 * time.Millisecond, Secrets: map[string]string{"GITHUB_TOKEN": "tok"}})
	for k, want := range map[string]string{
		"KAMAL_SERVICE_VERSION": "app@0123456", "KAMAL_VERSION": "0123456789abcdef", "KAMAL_LOCK": "true",
		"KAMAL_COMMAND": "deploy", "KAMAL_RUNTIME": "2", "GITHUB_TOKEN": "tok", "KAMAL_HOSTS": "h1",
	} {
		if m[k] != want {
			t.Errorf("%s = %q, want %q", k, m[k], want)
		}
	}
	for _, k := range []string{"KAMAL_ROLES", "KAMAL_DESTINATION", "KAMAL_SUBCOMMAND"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s set although unset in Env", k)
		}
	}
	if got := vars(Env{Service: "app", Version: "abc1234def_uncommitted_xyz"})["KAMAL_SERVICE_VERSION"]; got != "app@abc1234def_uncommitted_xyz" {
		t.Errorf("uncommitted version abbreviated: %q", got)
	}
}

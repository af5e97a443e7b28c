package secretadapters

// The vendor CLIs cannot be installed here, so every adapter is tested
// against a stand-in: a shell script written into a temp dir on PATH
// under the vendor's executable name, printing what the vendor documents
// (and Kamal's adapter tests record) for exactly the arguments the
// adapter must pass, and failing loudly on any other. They are stand-ins,
// not the real CLIs: their outputs are copies of documented shapes.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// reply is the stand-in's answer to one exact argument list ("$*",
// prefixed with "BW_SESSION=S " when that variable is set).
type reply struct {
	args   string
	stdout string
	stderr string
	exit   int
}

// standIn installs bin as a stand-in answering replies, first on PATH.
func standIn(t *testing.T, bin string, replies []reply) {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("#!/bin/sh\ncase \"${BW_SESSION:+BW_SESSION=$BW_SESSION }$*\" in\n")
	for i, r := range replies {
		fmt.Fprintf(&b, "%s)\n", quoteSingle(r.args))
		if r.stdout != "" {
			fmt.Fprintf(&b, "cat <<'OUT_%d'\n%s\nOUT_%d\n", i, r.stdout, i)
		}
		if r.stderr != "" {
			fmt.Fprintf(&b, "cat >&2 <<'ERR_%d'\n%s\nERR_%d\n", i, r.stderr, i)
		}
		fmt.Fprintf(&b, "exit %d;;\n", r.exit)
	}
	fmt.Fprintf(&b, "*) echo \"stand-in %s: unexpected arguments: $*\" >&2; exit 99;;\nesac\n", bin)
	if err := os.WriteFile(filepath.Join(dir, bin), []byte(b.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// adapterCase is one fetch against a stand-in: the secrets it must give,
// or the sentinel its error must wrap.
type adapterCase struct {
	name    string
	req     Request
	replies []reply
	want    map[string]string
	wantErr error
}

// secretPrefix starts every secret value the stand-ins print, so a test
// can tell one leaked into an error.
const secretPrefix = "sv-"

func runAdapterCases(t *testing.T, adapter, bin string, tests []adapterCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			standIn(t, bin, tc.replies)
			got, err := Fetch(context.Background(), adapter, tc.req)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), secretPrefix) || strings.Contains(err.Error(), "unexpected arguments") {
					t.Fatalf("error leaks a value or the stand-in was called wrongly: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, a := range []string{"1password", "bitwarden", "bitwarden-sm", "aws_secrets_manager", "gcp", "doppler", "lastpass", "passbolt", "enpass", "vault"} {
		_, err := Fetch(context.Background(), a, Request{Account: "acct", From: "f", Items: []string{"x/y"}})
		if !errors.Is(err, ErrNotInstalled) {
			t.Errorf("%s without its CLI: %v, want ErrNotInstalled", a, err)
		}
	}
}

func TestLookupAndAccount(t *testing.T) {
	if _, err := Lookup("keepass"); !errors.Is(err, ErrUnknownAdapter) {
		t.Errorf("unknown adapter: %v", err)
	}
	for _, name := range []string{"1Password", "LastPass", "GCP", "Bitwarden-SM", "vault"} {
		if _, err := Lookup(name); err != nil {
			t.Errorf("Lookup(%s): %v", name, err)
		}
	}
	for _, a := range []string{"1password", "bitwarden", "lastpass", "gcp"} {
		if _, err := Fetch(context.Background(), a, Request{Items: []string{"x"}}); !errors.Is(err, ErrUsage) {
			t.Errorf("%s without --account: %v, want ErrUsage", a, err)
		}
	}
}

// pathEnv is a PATH for requests with their own Env, so the stand-in
// script finds cat (the executable itself is found on our PATH).
func pathEnv() string { return os.Getenv("PATH") }

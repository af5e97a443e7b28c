package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/internal/golden"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = program().Run(context.Background(), append([]string{"docker-kamal"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// commandPaths is every command of the tree: each must keep its help.
var commandPaths = []string{
	"", "setup", "deploy", "redeploy", "rollback",
	"build", "build deliver", "build push", "build pull",
	"app", "app boot", "app start", "app stop", "app details", "app containers", "app stale_containers",
	"app images", "app version", "app remove", "app maintenance", "app live", "app exec", "app logs",
	"accessory", "accessory boot", "accessory reboot", "accessory start", "accessory stop", "accessory restart",
	"accessory details", "accessory exec", "accessory logs", "accessory remove", "accessory upgrade",
	"proxy", "proxy boot", "proxy reboot", "proxy start", "proxy stop", "proxy restart", "proxy details",
	"proxy logs", "proxy remove",
	"lock", "lock status", "lock acquire", "lock release",
	"audit", "details", "prune", "prune all", "prune images", "prune containers",
	"server", "server exec", "server bootstrap",
	"secrets", "secrets print", "secrets extract", "secrets fetch",
	"registry", "registry login", "registry logout",
	"remove", "config", "init", "docs", "doctor", "version",
}

func goldenName(path string) string {
	if path == "" {
		return filepath.Join("testdata", "help", "kamal.golden")
	}
	return filepath.Join("testdata", "help", "kamal_"+strings.ReplaceAll(path, " ", "_")+".golden")
}

// TestHelp keeps every command's --help as it is, and the other ways to
// ask for it (help CMD, docker help kamal CMD) print the same.
func TestHelp(t *testing.T) {
	for _, p := range commandPaths {
		t.Run("kamal "+p, func(t *testing.T) {
			words := strings.Fields(p)
			out, errOut, code := run(t, append(append([]string{"kamal"}, words...), "--help")...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden.Check(t, goldenName(p), []byte(out))
			for _, args := range [][]string{
				append([]string{"kamal", "help"}, words...),
				append([]string{"help", "kamal"}, words...),
				append(append([]string{}, words...), "--help"),
			} {
				again, _, code := run(t, args...)
				if code != 0 || again != out {
					t.Errorf("%q: exit %d, help differs from --help:\n%s", args, code, again)
				}
			}
		})
	}
}

// TestUsage keeps what the parser prints for the other help forms and for
// a bad flag.
func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"help_command_sub", []string{"kamal", "app", "help", "exec"}, 0},
		{"help_alias", []string{"kamal", "app", "h"}, 0},
		{"help_help", []string{"kamal", "help", "help"}, 0},
		{"help_help_sub", []string{"kamal", "app", "help", "--help"}, 0},
		{"leaf_help_arg", []string{"kamal", "app", "exec", "help"}, 0},
		{"bare", []string{"kamal"}, 0},
		{"bare_group", []string{"kamal", "app"}, 0},
		{"bad_flag", []string{"kamal", "deploy", "--nope"}, 1},
		{"bad_flag_leaf", []string{"kamal", "app", "exec", "--nope"}, 1},
		{"bad_global_flag", []string{"kamal", "--nope"}, 1},
		{"missing_required_flag", []string{"kamal", "lock", "acquire"}, 1},
		{"unknown_command", []string{"kamal", "nosuch"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			golden.Check(t, filepath.Join("testdata", "usage", tt.name+".golden"), []byte(out+"--- stderr\n"+errOut))
		})
	}
}

func TestMetadata(t *testing.T) {
	out, errOut, code := run(t, "docker-cli-plugin-metadata")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	golden.Check(t, filepath.Join("testdata", "metadata.golden"), []byte(out))
}

// TestAliasFromConfig runs a name the config's aliases: define as its
// expansion, with the global options before and after it.
func TestAliasFromConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "service: app\nimage: app\nservers:\n  web:\n    - 10.0.0.1\naliases:\n  refs: docs proxy\n  bad: nosuch thing\n"
	if err := os.WriteFile(filepath.Join(dir, "config", "deploy.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	want, _, code := run(t, "kamal", "docs", "proxy")
	if code != 0 {
		t.Fatalf("docs proxy: exit %d", code)
	}
	for _, args := range [][]string{{"kamal", "refs"}, {"kamal", "-c", "config/deploy.yml", "refs"}, {"kamal", "refs", "-q"}} {
		got, errOut, code := run(t, args...)
		if code != 0 || got != want {
			t.Errorf("%q: exit %d, stderr %q, output is not docs proxy's:\n%s", args, code, errOut, got)
		}
	}
	if _, errOut, code := run(t, "kamal", "bad"); code == 0 || !strings.Contains(errOut, "does not start with a docker kamal command") {
		t.Errorf("bad alias: exit %d, stderr %q", code, errOut)
	}
}

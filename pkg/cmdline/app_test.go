package cmdline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func run(t *testing.T, p Program, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := p.Run(context.Background(), append([]string{"docker-kamal"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestMetadata(t *testing.T) {
	out, _, code := run(t, Program{}, "docker-cli-plugin-metadata")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"SchemaVersion", "Vendor", "Version", "ShortDescription", "URL"} {
		if m[k] == nil || m[k] == "" {
			t.Fatalf("metadata lacks %s: %s", k, out)
		}
	}
	if m["SchemaVersion"] != "0.1.0" {
		t.Fatalf("schema %v", m["SchemaVersion"])
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	p := Program{Commands: testTree(func(context.Context, *Globals, *cli.Context) error { return nil })}
	for _, args := range [][]string{{"kamal", "--help"}, {"--help"}, {"kamal", "help"}, {"help", "kamal"}, {"kamal"}} {
		out, _, code := run(t, p, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, name := range []string{"deploy", "app", "accessory", "version", "help, h"} {
			if !strings.Contains(out, "   "+name+" ") {
				t.Fatalf("%v: help does not list %q:\n%s", args, name, out)
			}
		}
	}
}

// TestRunsTwice runs one program twice in a process: nothing urfave/cli
// keeps between runs may change the second.
func TestRunsTwice(t *testing.T) {
	p := Program{Commands: testTree(func(context.Context, *Globals, *cli.Context) error { return nil })}
	for _, args := range [][]string{{"kamal", "app", "h"}, {"kamal", "app", "exec", "--help"}, {"kamal", "--help"}} {
		first, _, code1 := run(t, p, args...)
		second, _, code2 := run(t, p, args...)
		if code1 != 0 || code2 != 0 || first != second {
			t.Errorf("%q: exit %d then %d, output\n%s\nthen\n%s", args, code1, code2, first, second)
		}
	}
}

func TestCheckRejectsBrokenTrees(t *testing.T) {
	noop := func(context.Context, *Globals, *cli.Context) error { return nil }
	tests := []struct {
		name string
		tree []*Command
	}{
		{"nothing to run", []*Command{{Name: "deploy"}}},
		{"twice", []*Command{{Name: "deploy", Run: noop}, {Name: "deploy", Run: noop}}},
		{"shadows version", []*Command{{Name: "version", Run: noop}}},
		{"shadows help", []*Command{{Name: "app", Subcommands: []*Command{{Name: "help", Run: noop}}}}},
		{"nameless", []*Command{{Name: "app", Subcommands: []*Command{{Run: noop}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, Program{Commands: tt.tree}, "kamal", "--help")
			if code != 1 || !strings.Contains(errOut, "command tree: ") {
				t.Fatalf("exit %d stderr %q", code, errOut)
			}
		})
	}
}

func TestGlobalsAnywhereAndDockerFlags(t *testing.T) {
	var got *Globals
	p := Program{Commands: testTree(func(_ context.Context, g *Globals, _ *cli.Context) error { got = g; return nil })}
	_, errOut, code := run(t, p, "--context", "remote", "-H", "unix:///x.sock", "kamal", "deploy", "-d", "staging", "--hosts=h1,h2", "-v", "-c", "other.yml", "-H")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got.Destination != "staging" || !reflect.DeepEqual(got.Hosts, []string{"h1", "h2"}) || !got.Verbose || got.ConfigFile != "other.yml" || !got.SkipHooks {
		t.Fatalf("globals %+v", got)
	}
	if !reflect.DeepEqual(got.DockerFlags, []string{"--context", "remote", "-H", "unix:///x.sock"}) {
		t.Fatalf("docker flags %q", got.DockerFlags)
	}
}

// TestShortHostsIsNotHelp: -h is --hosts, whatever its value; urfave's
// help check would read `-h true` as its -h.
func TestShortHostsIsNotHelp(t *testing.T) {
	for _, args := range [][]string{
		{"kamal", "-h", "true", "deploy"},
		{"kamal", "deploy", "-h", "1"},
		{"kamal", "-h=t", "deploy"},
		{"kamal", "deploy", "--hosts", "true"},
	} {
		var got *Globals
		p := Program{Commands: testTree(func(_ context.Context, g *Globals, _ *cli.Context) error { got = g; return nil })}
		out, errOut, code := run(t, p, args...)
		if code != 0 || got == nil || len(got.Hosts) != 1 || out != "" {
			t.Errorf("%q: exit %d, globals %+v, stdout %q, stderr %q", args, code, got, out, errOut)
		}
	}
}

func TestExitCodes(t *testing.T) {
	p := Program{Commands: []*Command{
		{Name: "fail", Run: func(context.Context, *Globals, *cli.Context) error { return errors.New("boom") }},
		{Name: "exit7", Run: func(context.Context, *Globals, *cli.Context) error {
			return fmt.Errorf("remote: %w", &ExitError{Code: 7, Err: errors.New("exit status 7")})
		}},
	}}
	for args, want := range map[string]int{"fail": 1, "exit7": 7, "nosuch": 1} {
		_, errOut, code := run(t, p, "kamal", args)
		if code != want || !strings.HasPrefix(errOut, "error: ") {
			t.Errorf("%s: exit %d stderr %q, want exit %d", args, code, errOut, want)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, Program{}, "kamal", "version")
	if code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("exit %d out %q", code, out)
	}
}

package cmdline

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in    string
		want  []string
		quote string // the unterminated quote, if any
	}{
		{`app exec -i "bin/rails console"`, []string{"app", "exec", "-i", "bin/rails console"}, ""},
		{`app exec 'echo "$HOME"'`, []string{"app", "exec", `echo "$HOME"`}, ""},
		{`a\ b "x\"y" ''`, []string{"a b", `x"y`, ""}, ""},
		{`  spaced   out `, []string{"spaced", "out"}, ""},
		{`broken "quote`, nil, "double"},
		{`broken 'quote`, nil, "single"},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if tt.quote != "" {
			var qe *QuoteError
			if !errors.As(err, &qe) || qe.Quote != tt.quote {
				t.Errorf("splitWords(%q) error %v, want an unterminated %s quote", tt.in, err, tt.quote)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// testTree is a small tree with the shapes the parser cares about.
func testTree(run Handler) []*Command {
	return []*Command{
		{Name: "deploy", Run: run, Flags: []cli.Flag{&cli.BoolFlag{Name: "skip-push", Aliases: []string{"P"}}}},
		{Name: "app", Usage: "Manage the application", Subcommands: []*Command{
			{Name: "exec", Run: run, FreeText: true, Flags: []cli.Flag{&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}}}},
		}},
		{Name: "accessory", Subcommands: []*Command{
			{Name: "remove", Run: run, Args: "NAME", Flags: []cli.Flag{&cli.BoolFlag{Name: "confirmed", Aliases: []string{"y"}}}},
			{Name: "logs", Run: run, Flags: []cli.Flag{
				&cli.IntFlag{Name: "lines", Aliases: []string{"n"}},
				&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}},
			}},
		}},
	}
}

func TestExpandAlias(t *testing.T) {
	var gotConfig, gotDest string
	resolve := func(_ context.Context, configFile, destination string) (map[string]string, error) {
		gotConfig, gotDest = configFile, destination
		return map[string]string{
			"console": `app exec -i --reuse "bin/rails console"`,
			"onprim":  `app exec -p "uptime"`,
			"bad":     `rm -rf /`,
		}, nil
	}
	tree := testTree(nil)
	tests := []struct {
		in   []string
		want []string
		err  error
	}{
		{[]string{"-d", "staging", "console"}, []string{"-d", "staging", "app", "exec", "-i", "--reuse", "bin/rails console"}, nil},
		{[]string{"-v", "console"}, []string{"-v", "app", "exec", "-i", "--reuse", "bin/rails console"}, nil},
		{[]string{"onprim"}, []string{"-p", "app", "exec", "uptime"}, nil},
		{[]string{"deploy", "-d", "x"}, []string{"deploy", "-d", "x"}, nil},
		{[]string{"nosuch"}, []string{"nosuch"}, nil},
		{[]string{"bad"}, nil, ErrAliasNotCommand},
	}
	for _, tt := range tests {
		got, err := expandAlias(context.Background(), tree, resolve, tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("expandAlias(%q) error %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("expandAlias(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := expandAlias(context.Background(), tree, resolve, []string{"-c", "x.yml", "--destination=prod", "console"}); err != nil {
		t.Fatal(err)
	}
	if gotConfig != "x.yml" || gotDest != "prod" {
		t.Errorf("resolver got config %q destination %q", gotConfig, gotDest)
	}
}

func TestMoveTrailingFlags(t *testing.T) {
	tree := testTree(nil)
	tests := []struct{ in, want []string }{
		{[]string{"-d", "x", "accessory", "remove", "redis", "-y"}, []string{"-d", "x", "accessory", "remove", "-y", "redis"}},
		{[]string{"-v", "accessory", "remove", "redis", "-y"}, []string{"-v", "accessory", "remove", "-y", "redis"}},
		{[]string{"accessory", "logs", "db", "-n", "3"}, []string{"accessory", "logs", "-n", "3", "db"}},
		{[]string{"accessory", "logs", "db", "-f", "-n", "3"}, []string{"accessory", "logs", "-f", "-n", "3", "db"}},
		{[]string{"accessory", "logs", "db", "--lines=3", "--", "-y"}, []string{"accessory", "logs", "--lines=3", "db", "--", "-y"}},
		{[]string{"accessory", "logs", "db", "-z"}, []string{"accessory", "logs", "db", "-z"}},
		{[]string{"app", "exec", "ls", "-e", "x"}, []string{"app", "exec", "ls", "-e", "x"}},
		{[]string{"app", "nosuch", "-e", "x"}, []string{"app", "nosuch", "-e", "x"}},
		{[]string{"deploy"}, []string{"deploy"}},
	}
	for _, tt := range tests {
		if got := moveTrailingFlags(tree, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("moveTrailingFlags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

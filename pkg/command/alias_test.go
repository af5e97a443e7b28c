package command

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{`app exec -i "bin/rails console"`, []string{"app", "exec", "-i", "bin/rails console"}, ""},
		{`app exec 'echo "$HOME"'`, []string{"app", "exec", `echo "$HOME"`}, ""},
		{`a\ b "x\"y" ''`, []string{"a b", `x"y`, ""}, ""},
		{`  spaced   out `, []string{"spaced", "out"}, ""},
		{`broken "quote`, nil, "unterminated double"},
		{`broken 'quote`, nil, "unterminated single"},
	}
	for _, tt := range tests {
		got, err := SplitWords(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SplitWords(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestExpandAlias(t *testing.T) {
	var gotConfig, gotDest string
	RegisterAliasResolver(func(_ context.Context, configFile, destination string) (map[string]string, error) {
		gotConfig, gotDest = configFile, destination
		return map[string]string{
			"console": `app exec -i --reuse "bin/rails console"`,
			"onprim":  `app exec -p "uptime"`,
			"bad":     `rm -rf /`,
		}, nil
	})
	defer RegisterAliasResolver(nil)
	tests := []struct {
		in   []string
		want []string
		err  string
	}{
		{[]string{"-d", "staging", "console"}, []string{"-d", "staging", "app", "exec", "-i", "--reuse", "bin/rails console"}, ""},
		{[]string{"onprim"}, []string{"-p", "app", "exec", "uptime"}, ""},
		{[]string{"deploy", "-d", "x"}, []string{"deploy", "-d", "x"}, ""},
		{[]string{"nosuch"}, []string{"nosuch"}, ""},
		{[]string{"bad"}, nil, "does not start with a docker kamal command"},
	}
	for _, tt := range tests {
		got, err := expandAlias(context.Background(), tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("expandAlias(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("expandAlias(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	expandAlias(context.Background(), []string{"-c", "x.yml", "--destination=prod", "console"}) //nolint:errcheck
	if gotConfig != "x.yml" || gotDest != "prod" {
		t.Errorf("resolver got config %q destination %q", gotConfig, gotDest)
	}
}

func TestMoveTrailingFlags(t *testing.T) {
	RegisterFlags("accessory remove", &cli.BoolFlag{Name: "confirmed", Aliases: []string{"y"}})
	RegisterFlags("accessory logs", &cli.IntFlag{Name: "lines", Aliases: []string{"n"}})
	defer func() {
		delete(commandFlags, "accessory remove")
		delete(commandFlags, "accessory logs")
	}()
	tests := []struct{ in, want []string }{
		{[]string{"-d", "x", "accessory", "remove", "redis", "-y"}, []string{"-d", "x", "accessory", "remove", "-y", "redis"}},
		{[]string{"accessory", "logs", "db", "-n", "3"}, []string{"accessory", "logs", "-n", "3", "db"}},
		{[]string{"accessory", "logs", "db", "--lines=3", "--", "-y"}, []string{"accessory", "logs", "--lines=3", "db", "--", "-y"}},
		{[]string{"accessory", "logs", "db", "-z"}, []string{"accessory", "logs", "db", "-z"}},
		{[]string{"app", "exec", "ls", "-la"}, []string{"app", "exec", "ls", "-la"}},
		{[]string{"deploy"}, []string{"deploy"}},
	}
	for _, tt := range tests {
		if got := moveTrailingFlags(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("moveTrailingFlags(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

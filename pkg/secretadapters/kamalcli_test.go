package secretadapters

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Fetch's JSON, shell-escaped as Kamal's --inline prints it, splits back
// into exactly the JSON: what lets $SECRETS carry it from one $(...) to
// the next.
func TestShellEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{
		`{"Vault/Item/DB_PASSWORD":"p\"w d$x` + "`" + `'y\\"}`, "", "a\nb", "plain-word_1.2,3:4+5/6@7", "ünï cødé", `\`, "tab\there",
	} {
		words, err := ShellSplit("kamal secrets extract X " + ShellEscape(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if len(words) != 5 || words[4] != s {
			t.Errorf("%q escaped as %q splits to %q", s, ShellEscape(s), words)
		}
	}
}

func TestShellSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`a  'b c' "d \"e\" \$f \x" g\ h`, []string{"a", "b c", `d "e" $f \x`, "g h"}},
		{`x''y ""`, []string{"xy", ""}},
	}
	for _, tt := range tests {
		got, err := ShellSplit(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ShellSplit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`'open`, `"open`} {
		if _, err := ShellSplit(bad); !errors.Is(err, ErrUnmatchedQuote) {
			t.Errorf("ShellSplit(%q): %v", bad, err)
		}
	}
}

func TestExtract(t *testing.T) {
	js := `{"vault/item/DB_PASSWORD":"sv-p1","TOKEN":"sv-t1","a/b/TOKEN":"sv-other"}`
	for name, want := range map[string]string{"DB_PASSWORD": "sv-p1", "TOKEN": "sv-t1", "item/DB_PASSWORD": "sv-p1"} {
		if got, err := Extract(name, js); err != nil || got != want {
			t.Errorf("Extract(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, tc := range []struct{ name, data string }{{"NOPE", js}, {"X", "not json sv-"}} {
		if _, err := Extract(tc.name, tc.data); err == nil || containsValue(err) {
			t.Errorf("Extract(%s): %v: want an error without values", tc.name, err)
		}
	}
	if _, err := Extract("NOPE", js); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing name: %v", err)
	}
}

func TestInline(t *testing.T) {
	standIn(t, "op", []reply{{args: "--version"}, {args: "account get --account acme"},
		{args: "item get Item --vault Vault --format json --account acme --fields label=DB_PASSWORD",
			stdout: `{"label": "DB_PASSWORD", "value": "sv-p w\"d", "reference": "op://Vault/Item/DB_PASSWORD"}`}})
	ctx := context.Background()
	// Thor takes options anywhere and in --name=value form.
	got, err := Inline(ctx, []string{"fetch", "DB_PASSWORD", "--adapter=1password", "--account", "acme", "--from", "Vault/Item", "--inline"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `\{\"Vault/Item/DB_PASSWORD\":\"sv-p\ w\\\"d\"\}`; got != want {
		t.Fatalf("inline fetch = %s, want %s", got, want)
	}
	words, err := ShellSplit(got)
	if err != nil || len(words) != 1 {
		t.Fatalf("split %q: %q %v", got, words, err)
	}
	v, err := Inline(ctx, []string{"extract", "DB_PASSWORD", words[0]}, nil)
	if err != nil || v != `sv-p w"d` {
		t.Fatalf("inline extract = %q, %v", v, err)
	}
	for _, args := range [][]string{{"print"}, {"fetch", "X"}, {"fetch", "-a"}, {"fetch", "--bogus", "-a", "pass"}, {"extract", "ONLY"}, {}} {
		if _, err := Inline(ctx, args, nil); !errors.Is(err, ErrUsage) {
			t.Errorf("Inline(%q): %v, want ErrUsage", args, err)
		}
	}
}

func TestPassAndCommand(t *testing.T) {
	standIn(t, "pass", []reply{{args: "show app/prod/DB", stdout: "sv-pw\nurl: example.com"},
		{args: "show app/prod/NOPE", stderr: "Error: app/prod/NOPE is not in the password store.", exit: 1}})
	ctx := context.Background()
	got, err := Fetch(ctx, "pass", Request{From: "app/prod/", Items: []string{"DB"}})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"app/prod/DB": "sv-pw"}) {
		t.Errorf("pass = %q, %v", got, err)
	}
	if _, err := Fetch(ctx, "pass", Request{From: "app/prod", Items: []string{"NOPE"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("pass missing: %v", err)
	}
	got, err = Fetch(ctx, "command", Request{From: "printf 'sv-%s\n' {}", Items: []string{"it's"}})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"it's": "sv-it's"}) {
		t.Errorf("command = %q, %v", got, err)
	}
	if _, err := Fetch(ctx, "command", Request{Items: []string{"X"}}); !errors.Is(err, ErrUsage) {
		t.Errorf("command without --from: %v", err)
	}
	var ce *CLIError
	if _, err := Fetch(ctx, "command", Request{From: "exit 3 #", Items: []string{"X"}}); !errors.As(err, &ce) {
		t.Errorf("failing command: %v", err)
	}
}

func containsValue(err error) bool { return strings.Contains(err.Error(), secretPrefix) }

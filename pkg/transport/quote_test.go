package transport

import (
	"os/exec"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"docker", "ps"}, "docker ps"},
		{[]string{"echo", ""}, "echo ''"},
		{[]string{"echo", "a b"}, "echo 'a b'"},
		{[]string{"echo", "it's"}, `echo 'it'\''s'`},
		{[]string{"echo", "$HOME", "`id`", "a;b", "x|y", "*"}, `echo '$HOME' '` + "`id`" + `' 'a;b' 'x|y' '*'`},
		{[]string{"--label", "kamal.service=app", "img:v1@sha256:ab"}, "--label kamal.service=app img:v1@sha256:ab"},
		{[]string{"new\nline"}, "'new\nline'"},
	}
	for _, tt := range tests {
		if got := Quote(tt.args...); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

// The shell must give back exactly the arguments that were quoted.
func TestQuoteRoundTrip(t *testing.T) {
	args := []string{"", " ", "a'b", `"`, "\\", "$(id)", "a\nb", "ü", "--x=y z", "'", "''"}
	out, err := exec.Command("/bin/sh", "-c", "printf '%s\\0' "+Quote(args...)).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if strings.Join(got, "|") != strings.Join(args, "|") || len(got) != len(args) {
		t.Fatalf("round trip: got %q, want %q", got, args)
	}
}

func FuzzQuote(f *testing.F) {
	f.Add("a'b c")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return
		}
		out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+Quote(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Fatalf("round trip %q -> %q", s, out)
		}
	})
}

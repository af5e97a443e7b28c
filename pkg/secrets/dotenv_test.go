package secrets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeRun answers $(command) without a shell.
func fakeRun(outputs map[string]string) func(context.Context, string, []string) (string, error) {
	return func(_ context.Context, cmd string, _ []string) (string, error) {
		if out, ok := outputs[cmd]; ok {
			return out, nil
		}
		return "", errors.New("exit status 1")
	}
}

func TestParse(t *testing.T) {
	env := map[string]string{"HOME_TOKEN": "from-env", "EMPTY": ""}
	opts := Options{
		Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Run: fakeRun(map[string]string{
			"cat config/master.key":            "masterkey\n",
			"op read op://vault/item/password": "op-pass",
			"echo from-env":                    "echoed\n",
			"kamal secrets extract DB $S":      "unused",
		}),
	}
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"plain", "A=1\nB = two \n", map[string]string{"A": "1", "B": "two"}},
		{"comments and blanks", "# c\n\nA=1 # trailing\n  # indented\n", map[string]string{"A": "1"}},
		{"export", "export A=1\n", map[string]string{"A": "1"}},
		{"colon", "A: 1\n", map[string]string{"A": "1"}},
		{"single quotes literal", `A='$HOME_TOKEN $(cat x) \n #no'` + "\n", map[string]string{"A": `$HOME_TOKEN $(cat x) \n #no`}},
		{"double quotes escapes", `A="line1\nline2 \"q\" \$lit #notcomment"`, map[string]string{"A": "line1\nline2 \"q\" $lit #notcomment"}},
		{"multi-line double", "A=\"one\ntwo\"\nB=3\n", map[string]string{"A": "one\ntwo", "B": "3"}},
		{"var from env", "A=$HOME_TOKEN\nB=${HOME_TOKEN}x\nC=$UNSET\n", map[string]string{"A": "from-env", "B": "from-envx", "C": ""}},
		{"var from earlier key wins over env", "HOME_TOKEN=local\nA=$HOME_TOKEN\n", map[string]string{"HOME_TOKEN": "local", "A": "local"}},
		{"command", "RAILS_MASTER_KEY=$(cat config/master.key)\n", map[string]string{"RAILS_MASTER_KEY": "masterkey"}},
		{"command quoted", `P="$(op read op://vault/item/password)"`, map[string]string{"P": "op-pass"}},
		{"command with var", "A=$(echo $HOME_TOKEN)\n", map[string]string{"A": "echoed"}},
		{"command with hash", "A=$(echo from-env) # c\n", map[string]string{"A": "echoed"}},
		{"escaped command", `A=\$(not run)`, map[string]string{"A": "$(not run)"}},
		{"bare key ignored", "JUSTKEY\nA=1\n", map[string]string{"A": "1"}},
		{"crlf", "A=1\r\nB='x'\r\n", map[string]string{"A": "1", "B": "x"}},
		{"empty value", "A=\nB=''\n", map[string]string{"A": "", "B": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(context.Background(), ".kamal/secrets", []byte(tc.in), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	opts := Options{Run: fakeRun(nil)}
	tests := []struct {
		in   string
		line int
		msg  string
	}{
		{"A=1\nB=\"open\n", 2, `unterminated "-quoted value`},
		{"A=1\n=2\n", 2, "expected KEY=value"},
		{"A B\n", 1, "expected = after A"},
		{"A='x' y\n", 1, "unexpected text after the quoted value of A"},
		{"\n\nA=$(false)\n", 3, "command substitution failed: exit status 1"},
		{"A=$(echo\n", 1, "unterminated $( command substitution"},
	}
	for _, tc := range tests {
		_, err := Parse(context.Background(), ".kamal/secrets", []byte(tc.in), opts)
		var e *Error
		if !errors.As(err, &e) || e.File != ".kamal/secrets" || e.Line != tc.line || e.Msg != tc.msg {
			t.Errorf("%q: got %#v, want line %d %q", tc.in, err, tc.line, tc.msg)
		}
	}
}

func TestShellRunsCommandsWithTimeout(t *testing.T) {
	got, err := Parse(context.Background(), "s", []byte("A=$(printf 'x%s' $B)\nB=2\nC=$(printf 'y%s' $B)\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got["A"] != "x" || got["C"] != "y2" {
		t.Fatalf("got %v", got)
	}
	start := time.Now()
	_, err = Parse(context.Background(), "s", []byte("A=$(sleep 3)\n"), Options{Timeout: 200 * time.Millisecond})
	var e *Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &e) || e.Line != 1 {
		t.Fatalf("want a timeout on line 1, got %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatalf("timeout not honoured: %v", time.Since(start))
	}
}

func TestLoadFilesOrderAndErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(".kamal/secrets-common", "A=common\nB=common\n")
	write(".kamal/secrets.staging", "B=staging\n")
	got, found, err := LoadFiles(context.Background(), []string{".kamal/secrets-common", ".kamal/secrets.staging", ".kamal/missing"}, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got["A"] != "common" || got["B"] != "staging" || !reflect.DeepEqual(found, []string{".kamal/secrets-common", ".kamal/secrets.staging"}) {
		t.Fatalf("got %v found %v", got, found)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".kamal", "secrets"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err = LoadFiles(context.Background(), []string{".kamal/secrets"}, Options{Dir: dir})
	var e *Error
	if !errors.Is(err, errIsDir) || !errors.As(err, &e) || e.File != ".kamal/secrets" {
		t.Fatalf("want a directory refused as .kamal/secrets, got %v", err)
	}
}

func FuzzParseSecrets(f *testing.F) {
	for _, s := range []string{
		"A=1\n", "export A='x'\n", `A="a\nb $B ${C} $(cmd $D)"`, "A=$(echo (nested) )\n", "A=\"open\n",
		"A: b # c\n", "A=\\$(x)\n", "A=${\n", "A=$(\n", "A='\\''\n", "=\n", "A\n",
	} {
		f.Add(s)
	}
	opts := Options{
		Lookup: func(k string) (string, bool) { return "env-" + k, k != "UNSET" },
		Run:    func(_ context.Context, cmd string, _ []string) (string, error) { return "out:" + cmd, nil },
		// Never a vendor CLI or the command adapter's shell from fuzz input.
		Inline: func(_ context.Context, args, _ []string) (string, error) {
			return "inline:" + strings.Join(args, " "), nil
		},
	}
	f.Fuzz(func(t *testing.T, in string) {
		vals, err := Parse(context.Background(), "fuzz", []byte(in), opts)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		for k := range vals {
			if k == "" {
				t.Fatalf("empty key parsed from %q", in)
			}
		}
	})
}

// ${NAME:-default} and other shell expansions are refused with the line,
// never silently substituted (Kamal's dotenv would give NAME's value and
// the literal rest); the refusal does not echo the default.
func TestParseRefusesShellParameterExpansion(t *testing.T) {
	opts := Options{Run: fakeRun(map[string]string{"echo x": "x"})}
	for _, in := range []string{
		"A=1\nB=${UNSET:-hunter2}\n",
		"A=1\nB=\"${UNSET-hunter2}\"\n",
		"A=1\nB=${A/x/hunter2}\n",
		"A=1\nB=$(echo ${A:=hunter2})\n",
	} {
		_, err := Parse(context.Background(), ".kamal/secrets", []byte(in), opts)
		var pe *Error
		if !errors.Is(err, ErrUnsupportedSubstitution) || !errors.As(err, &pe) || pe.Line != 2 {
			t.Errorf("%q: want ErrUnsupportedSubstitution at line 2, got %v", in, err)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error shows the default: %v", in, err)
		}
	}
}

// Kamal's way to a default: an escaped \${...} inside a command reaches the
// shell as ${...}, so sh applies the default.
func TestParseEscapedBraceReachesShell(t *testing.T) {
	t.Setenv("DOCKER_KAMAL_TEST_UNSET", "")
	os.Unsetenv("DOCKER_KAMAL_TEST_UNSET")
	got, err := Parse(context.Background(), ".kamal/secrets",
		[]byte("A=$(echo \\${DOCKER_KAMAL_TEST_UNSET:-fallback})\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got["A"] != "fallback" {
		t.Errorf("A = %q, want the shell's default", got["A"])
	}
}

package configcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretLines(t *testing.T) {
	lines := secretLines([]string{"A", "B"}, func(n string) string { return "v-" + n }, false)
	if lines != "A=[REDACTED]\nB=[REDACTED]\n" {
		t.Errorf("redacted print = %q", lines)
	}
	if got := secretLines([]string{"A"}, func(n string) string { return "v-" + n }, true); got != "A=v-A\n" {
		t.Errorf("revealed print = %q", got)
	}
}

// TestSecretsFetchAndExtract runs the commands as a user would, the
// command adapter standing in for a vault (the vendor adapters have their
// stand-in tests in pkg/secretadapters).
func TestSecretsFetchAndExtract(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "show")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf 'pw-of-%s\\n' \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"secrets", "fetch", "--adapter", "command", "--from", script, "DB", "it's"}, `{"DB":"pw-of-DB","it's":"pw-of-it's"}` + "\n", 0},
		{[]string{"secrets", "fetch", "--adapter", "command", "--from", script, "--inline", "DB"}, `\{\"DB\":\"pw-of-DB\"\}`, 0},
		{[]string{"secrets", "extract", "DB", `{"v/i/DB":"p1","T":"t1"}`}, "p1\n", 0},
		{[]string{"secrets", "extract", "NOPE", `{"v/i/DB":"p1"}`}, "", 1},
		{[]string{"secrets", "fetch", "--adapter", "vault9", "X"}, "", 1},
	}
	for _, tt := range tests {
		out, errOut, code := run(t, dir, tt.args...)
		if code != tt.code || out != tt.want {
			t.Errorf("%q: exit %d, out %q (stderr %q); want exit %d, %q", tt.args, code, out, errOut, tt.code, tt.want)
		}
		if tt.code != 0 && (errOut == "" || strings.Contains(errOut, "p1")) {
			t.Errorf("%q: stderr %q: want an error without the values", tt.args, errOut)
		}
	}
}

package configcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitWritesStarterFilesOnce(t *testing.T) {
	dir := t.TempDir()
	// A file the user already has must survive.
	if err := os.MkdirAll(filepath.Join(dir, ".kamal"), 0o755); err != nil {
		t.Fatal(err)
	}
	mine := []byte("MINE=1\n")
	if err := os.WriteFile(filepath.Join(dir, ".kamal", "secrets"), mine, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, dir, "init")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Created config/deploy.yml") || !strings.Contains(out, "Kept existing .kamal/secrets") {
		t.Fatalf("output:\n%s", out)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, ".kamal", "secrets")); string(got) != string(mine) {
		t.Fatalf("existing secrets overwritten: %q", got)
	}
	for _, h := range SampleHooks {
		st, err := os.Stat(filepath.Join(dir, ".kamal", "hooks", h+".sample"))
		if err != nil || st.Mode()&0o111 == 0 {
			t.Fatalf("hook %s: %v mode %v", h, err, st)
		}
	}
	// The starter config is valid.
	t.Setenv("RAILS_MASTER_KEY", "starter-key-value")
	if err := os.Remove(filepath.Join(dir, ".kamal", "secrets")); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run(t, dir, "init")
	if code != 0 || !strings.Contains(out, "Kept existing config/deploy.yml") || !strings.Contains(out, "Created .kamal/secrets") {
		t.Fatalf("second init: exit %d %s %s", code, out, errOut)
	}
	out, errOut, code = run(t, dir, "config")
	if code != 0 {
		t.Fatalf("config of the starter: exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "starter-key-value") || !strings.Contains(out, "service: my-app") {
		t.Fatalf("config output:\n%s", out)
	}
}

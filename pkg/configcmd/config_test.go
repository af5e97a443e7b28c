package configcmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/internal/golden"
	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
)

// testdataDir is absolute: tests chdir into app directories.
var testdataDir string

func init() {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	testdataDir = filepath.Join(wd, "testdata")
}

// run runs the plugin as `docker kamal ARGS...` in dir.
func run(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Chdir(dir)
	var out, errb bytes.Buffer
	code = cmdline.Program{Commands: Commands()}.Run(context.Background(), append([]string{"docker-kamal", "kamal"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// railsSecrets are every secret value the rails fixture resolves, for
// staging and production.
var railsSecrets = []string{
	"ghcr-token-s3cr3t", "prod-master-key-111", "prod-db-pass-222",
	"staging-master-key-333", "staging-db-pass-444",
}

func TestConfigRailsStaging(t *testing.T) {
	wd, _ := os.Getwd()
	rails, _ := filepath.Abs(filepath.Join(wd, "..", "spec", "testdata", "rails"))
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"config_rails_staging", []string{"config", "-d", "staging"}},
		{"config_rails_staging", []string{"-d", "staging", "config"}},
		{"config_rails", []string{"config"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := run(t, rails, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, s := range railsSecrets {
				if strings.Contains(out+errOut, s) {
					t.Fatalf("secret value %q printed:\n%s", s, out)
				}
			}
			for _, want := range []string{"service: hey", "RAILS_MASTER_KEY: '[REDACTED]'", "password: '[REDACTED]'", "MYSQL_ROOT_PASSWORD: '[REDACTED]'"} {
				if !strings.Contains(out, want) {
					t.Fatalf("output lacks %q:\n%s", want, out)
				}
			}
			golden.Check(t, filepath.Join(testdataDir, tc.name+".golden"), []byte(out))
		})
	}
}

func TestConfigErrorNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "service: app\nimage: app\nservers:\n  web:\n    hostz:\n      - 1.1.1.1\n"
	if err := os.WriteFile(filepath.Join(dir, "config", "deploy.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, dir, "config")
	if code == 0 || !strings.Contains(errOut, "config/deploy.yml:5: servers.web.hostz: unknown key") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// Redaction replaces secret values whole where they are values: text that
// merely contains one (RAILS_ENV: production, with a secret "prod") is
// printed as it is, and a plain-text field holding a secret (a registry
// username given as a secret) is masked whole.
func TestConfigRedactsWholeValuesOnly(t *testing.T) {
	dir := t.TempDir()
	for path, body := range map[string]string{
		"config/deploy.yml": `service: app
image: acme/app
servers: [1.2.3.4]
registry:
  server: ghcr.io
  username: [REG_USER]
  password: [REG_PASS]
env:
  clear:
    RAILS_ENV: production
    NOTE: prod-and-more
  secret: [DB_PASSWORD]
`,
		".kamal/secrets": "DB_PASSWORD=prod\nREG_USER=acme-bot\nREG_PASS=ghp_0123456789\n",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := run(t, dir, "config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"RAILS_ENV: production", "NOTE: prod-and-more", "username: '[REDACTED]'", "password: '[REDACTED]'", "DB_PASSWORD: '[REDACTED]'"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, leak := range []string{"[REDACTED]uction", "acme-bot", "ghp_0123456789", ": prod\n"} {
		if strings.Contains(out, leak) {
			t.Errorf("output has %q:\n%s", leak, out)
		}
	}
}

package doctor

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// exampleApp is the Rails app a newcomer reads as the model.
const exampleApp = "../../examples/rails"

// TestExampleRailsHasNothingToFix: the example follows the practice doctor
// preaches, so it reports no error and no warning (notes are fine).
func TestExampleRailsHasNothingToFix(t *testing.T) {
	r := doctorReport(t, newApp(t, exampleApp), "")
	for _, f := range r.Findings {
		if f.Severity == Error || f.Severity == Warn {
			text, _ := render(t, r)
			t.Fatalf("the example app has something to fix:\n%s", text)
		}
	}
}

// pitfall turns one piece of the example's good practice into a common
// mistake: in file, old becomes new. Each names the check that must
// catch it.
type pitfall struct {
	check, file, old, new string
}

var examplePitfalls = []pitfall{
	{"migrations-race", "bin/docker-entrypoint", `if [ "${@: -2:1}" == "./bin/rails" ] && [ "${@: -1:1}" == "server" ]; then
  ./bin/rails db:prepare
fi`, "./bin/rails db:migrate"},
	{"migrations-prepare", "", "", ""}, // the same edit: db:migrate
	{"user-root", "Dockerfile", "USER 1000:1000\n", ""},
	{"ruby-jemalloc", "Dockerfile", `ENV LD_PRELOAD="libjemalloc.so.2"` + "\n", ""},
	{"memory-limit", "config/deploy.yml", "    options:\n      memory: 1g\n", ""},
	{"secrets-master-key", "config/deploy.yml", "    - RAILS_MASTER_KEY\n", ""},
	{"secrets-registry-password", "config/deploy.yml", "  password:\n    - KAMAL_REGISTRY_PASSWORD\n", "  password: hunter2-registry\n"},
	{"secrets-tracked", ".gitignore", "/config/master.key\n/config/credentials.yml.enc\n", ""},
	{"rollback-retain", "config/deploy.yml", "# Configure the image builder.", "retain_containers: 1\n\n# Configure the image builder."},
	{"health-route", "config/routes.rb", `get "up"`, `get "healthz"`},
	{"tls-force-ssl", "config/environments/production.rb", "config.force_ssl = true", "config.force_ssl = false"},
}

// TestExampleRailsPitfalls: a copy of the example with the usual mistakes
// gets a finding of each kind.
func TestExampleRailsPitfalls(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, exampleApp, dir)
	for _, p := range examplePitfalls {
		if p.file == "" {
			continue
		}
		path := filepath.Join(dir, p.file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), p.old) {
			t.Fatalf("%s: the example's %s no longer holds %q; update the pitfall", p.check, p.file, p.old)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(data), p.old, p.new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The encrypted credentials and their key, as bin/new-credentials
	// writes them; with the .gitignore lines gone, git tracks both.
	for name, content := range map[string]string{"config/master.key": "0123456789abcdef0123456789abcdef\n", "config/credentials.yml.enc": "ciphertext--iv--tag\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := doctorReport(t, newApp(t, dir), "")
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Check)
	}
	for _, p := range examplePitfalls {
		if !slices.Contains(got, p.check) {
			text, _ := render(t, r)
			t.Errorf("pitfall %s was not found; doctor said:\n%s", p.check, text)
		}
	}
}

package fleetops

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// writeFile writes content to name under a fresh temp dir and returns its path.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func lookupIn(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestAccessoryFileContent(t *testing.T) {
	lookup := lookupIn(map[string]string{"DB_PASSWORD": "s3cret"})

	// A plain file is uploaded as it is, ERB-looking text included.
	plain := writeFile(t, "my.cnf", "password=<%= ENV[\"DB_PASSWORD\"] %>\n")
	got, err := accessoryFileContent(spec.Mount{Local: plain, Remote: "/etc/mysql/my.cnf"}, lookup)
	if err != nil || string(got) != "password=<%= ENV[\"DB_PASSWORD\"] %>\n" {
		t.Fatalf("plain file: %q, %v", got, err)
	}

	tmpl := writeFile(t, "my.cnf.erb", "[client]\npassword=<%= ENV[\"DB_PASSWORD\"] %>\n")
	got, err = accessoryFileContent(spec.Mount{Local: tmpl, Remote: "/etc/mysql/my.cnf"}, lookup)
	if err != nil || string(got) != "[client]\npassword=s3cret\n" {
		t.Fatalf("template: %q, %v", got, err)
	}

	bad := writeFile(t, "init.sql.erb", "create database app;\n-- <%= ENV.fetch(\"MISSING\") %>\n")
	_, err = accessoryFileContent(spec.Mount{Local: bad, Remote: "/docker-entrypoint-initdb.d/init.sql"}, lookup)
	if err == nil || !strings.Contains(err.Error(), bad+":2: ") || !strings.Contains(err.Error(), "MISSING") {
		t.Fatalf("unset ENV.fetch: want an error naming %s:2 and MISSING, got %v", bad, err)
	}

	_, err = accessoryFileContent(spec.Mount{Local: filepath.Join(t.TempDir(), "gone.erb")}, lookup)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "gone.erb") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestAccessoryERBLookup(t *testing.T) {
	a := &spec.Accessory{Env: spec.Env{
		Clear:  map[string]string{"MODE": "clear"},
		Secret: []spec.SecretRef{{Name: "DB_PASSWORD", From: "MYSQL_ROOT_PASSWORD"}},
	}}
	process := lookupIn(map[string]string{"MODE": "process", "HOME_DIR": "/home/x"})
	secrets := lookupIn(map[string]string{"MYSQL_ROOT_PASSWORD": "root-pw", "API_KEY": "k"})
	lookup := accessoryERBLookup(a, process, secrets)
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"MODE", "clear", true},          // clear env over the process env, as Kamal
		{"HOME_DIR", "/home/x", true},    // process env
		{"DB_PASSWORD", "root-pw", true}, // the accessory's env.secret alias
		{"API_KEY", "k", true},           // any resolved secret by name
		{"NOPE", "", false},
	}
	for _, tc := range tests {
		if v, ok := lookup(tc.name); v != tc.want || ok != tc.ok {
			t.Errorf("%s: got %q %v, want %q %v", tc.name, v, ok, tc.want, tc.ok)
		}
	}
}

package spec

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/secrets"
)

// writeApp writes files (path -> content) under a temp app dir.
func writeApp(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const okHead = "service: app\nimage: app\n"

// located is where a config or secrets error points, and what it says.
type located struct {
	File string
	Line int
	Key  string
	Msg  string
}

// locate reads err as the *Error or *secrets.Error it wraps.
func locate(err error) (located, bool) {
	var ce *Error
	if errors.As(err, &ce) {
		return located{ce.File, ce.Line, ce.Key, ce.Msg}, true
	}
	var se *secrets.Error
	if errors.As(err, &se) {
		return located{File: se.File, Line: se.Line, Msg: se.Msg}, true
	}
	return located{}, false
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		dest  string
		env   map[string]string
		want  located
	}{
		{name: "unknown key",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  web:\n    hostz:\n      - 1.1.1.1\n"},
			want:  located{"config/deploy.yml", 5, "servers.web.hostz", "unknown key"}},
		{name: "unknown root key",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nhealthchek: {}\n"},
			want:  located{"config/deploy.yml", 4, "healthchek", "unknown key"}},
		{name: "unknown key in destination file",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\n", "config/deploy.staging.yml": "env:\n  clear:\n    A: b\nproxy:\n  hots: [x]\n"},
			dest:  "staging",
			want:  located{"config/deploy.staging.yml", 5, "proxy.hots", "unknown key"}},
		{name: "missing destination file",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\n"},
			dest:  "mars",
			want:  located{"config/deploy.mars.yml", 0, "", "config for destination \"mars\" not found"}},
		{name: "wrong type int",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nretain_containers: many\n"},
			want:  located{"config/deploy.yml", 4, "retain_containers", "must be an integer, got \"many\""}},
		{name: "wrong type mapping for string",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  web:\n    hosts: [1.1.1.1]\n    cmd:\n      a: b\n"},
			want:  located{"config/deploy.yml", 6, "servers.web.cmd", "must be a single value, got a mapping"}},
		{name: "wrong type bool",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nproxy:\n  ssl: maybe\n  host: a.example.com\n"},
			want:  located{"config/deploy.yml", 5, "proxy.ssl", "must be true or false, got \"maybe\""}},
		{name: "wrong type list",
			files: map[string]string{"config/deploy.yml": okHead + "servers: 3\n"},
			want:  located{"config/deploy.yml", 3, "servers", "must be a list of hosts or a mapping of roles, got the value \"3\""}},
		{name: "missing service",
			files: map[string]string{"config/deploy.yml": "image: app\nservers: [1.1.1.1]\n"},
			want:  located{"config/deploy.yml", 0, "service", "missing (required)"}},
		{name: "bad service name",
			files: map[string]string{"config/deploy.yml": "service: app.com\nimage: app\nservers: [1.1.1.1]\n"},
			want:  located{"config/deploy.yml", 1, "service", "\"app.com\" must be lowercase letters, digits, - and _ (starting with a letter or digit)"}},
		{name: "missing servers",
			files: map[string]string{"config/deploy.yml": okHead},
			want:  located{"config/deploy.yml", 0, "servers", "missing: no servers or accessories specified"}},
		{name: "role with no hosts",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  web: [1.1.1.1]\n  job:\n    cmd: bin/jobs\n"},
			want:  located{"config/deploy.yml", 5, "servers.job", "no servers specified for the job role (allow_empty_roles: true permits this)"}},
		{name: "primary role with no hosts",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  web: []\n"},
			want:  located{"config/deploy.yml", 4, "servers.web", "no servers specified for the web primary role"}},
		{name: "primary role undefined",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  job: [1.1.1.1]\nprimary_role: bar\n"},
			want:  located{"config/deploy.yml", 5, "primary_role", "the primary role bar isn't defined"}},
		{name: "bad boot.limit zero",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nboot:\n  limit: 0\n"},
			want:  located{"config/deploy.yml", 5, "boot.limit", "must be a positive number of hosts or a percentage from 1% to 100%, got \"0\""}},
		{name: "bad boot.limit percent",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nboot:\n  limit: 150%\n"},
			want:  located{"config/deploy.yml", 5, "boot.limit", "must be a positive number of hosts or a percentage from 1% to 100%, got \"150%\""}},
		{name: "bad boot.limit list",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nboot:\n  limit: [1]\n"},
			want:  located{"config/deploy.yml", 5, "boot.limit", "must be a number of hosts or a percentage like \"25%\", got a list"}},
		{name: "ERB code tag",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n<% if true %>\n  - 1.1.1.1\n<% end %>\n"},
			want:  located{"config/deploy.yml", 4, "", "ERB <% if true %>: only <%= ... %> output tags are supported (ENV[\"X\"], ENV.fetch(\"X\", \"default\"), string literals)"}},
		{name: "ERB unsupported expression",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nregistry:\n  password: <%= %x(aws ecr get-login-password) %>\n"},
			want:  located{"config/deploy.yml", 5, "", "ERB <%= %x(aws ecr get-login-password) %>: unsupported expression \"%x(aws ecr get-login-password)\""}},
		{name: "ERB fetch unset",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  - <%= ENV.fetch(\"WEB_HOST\") %>\n"},
			want:  located{"config/deploy.yml", 4, "", "ERB <%= ENV.fetch(\"WEB_HOST\") %>: environment variable WEB_HOST is not set"}},
		{name: "ERB unclosed",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  - <%= ENV[\"X\"]\n"},
			want:  located{"config/deploy.yml", 4, "", "ERB tag <% is not closed with %>"}},
		{name: "unreadable secrets file",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nenv:\n  secret: [DB_PASSWORD]\n", ".kamal/secrets/": ""},
			want:  located{".kamal/secrets", 0, "", "read secrets file: is a directory"}},
		{name: "missing secret",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nenv:\n  secret:\n    - DB_PASSWORD\n", ".kamal/secrets": "OTHER=1\n"},
			want:  located{"config/deploy.yml", 6, "env.secret[0]", "secret DB_PASSWORD not found: not in .kamal/secrets and not in the environment"}},
		{name: "missing aliased secret",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nenv:\n  secret:\n    - DB_PASSWORD:MAIN_DB\n"},
			want:  located{"config/deploy.yml", 6, "env.secret[0]", "secret MAIN_DB not found: no secrets file (.kamal/secrets-common, .kamal/secrets) exists and not in the environment"}},
		{name: "secret command fails",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nenv:\n  secret: [A]\n", ".kamal/secrets": "\nA=$(exit 3)\n"},
			want:  located{".kamal/secrets", 2, "", "command substitution failed: exit status 3"}},
		{name: "bad YAML",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  - 1.1.1.1\n - 1.1.1.2\n"},
			want:  located{"config/deploy.yml", 4, "", "invalid YAML: did not find expected key"}},
		{name: "mixed generations",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nproxy:\n  app_port: 3000\ntraefik:\n  args: {}\n"},
			want:  located{"config/deploy.yml", 6, "traefik", "Kamal 1 key cannot be mixed with Kamal 2's proxy (proxy at line 4); use one generation"}},
		{name: "accessory without host",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\naccessories:\n  db:\n    image: postgres\n"},
			want:  located{"config/deploy.yml", 5, "accessories.db", "specify one of host, hosts, role, roles, tag or tags"}},
		{name: "accessory unknown role",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\naccessories:\n  db:\n    image: postgres\n    role: db\n"},
			want:  located{"config/deploy.yml", 5, "accessories.db.roles", "role db isn't defined"}},
		{name: "ssl without host",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nproxy:\n  ssl: true\n"},
			want:  located{"config/deploy.yml", 4, "proxy", "must set a host to enable automatic SSL"}},
		{name: "ssl on two hosts",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1, 1.1.1.2]\nproxy:\n  ssl: true\n  host: a.example.com\n"},
			want:  located{"config/deploy.yml", 4, "servers.web.proxy", "SSL is only supported on a single server unless you provide custom certificates, found 2 servers"}},
		{name: "retain zero",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nretain_containers: 0\n"},
			want:  located{"config/deploy.yml", 4, "retain_containers", "must retain at least 1 container, got 0"}},
		{name: "minimum version",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nminimum_version: 10000.0.0\n"},
			want:  located{"config/deploy.yml", 4, "minimum_version", "requires Kamal 10000.0.0, this build reads Kamal 2.12.0 configs"}},
		{name: "env tags in role",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  web:\n    hosts: [1.1.1.1]\n    env:\n      tags:\n        a: {X: y}\n"},
			want:  located{"config/deploy.yml", 7, "servers.web.env.tags", "tags are only allowed in the root env"}},
		{name: "duplicate host",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  - 1.1.1.1\n  - 1.1.1.1\n"},
			want:  located{"config/deploy.yml", 5, "servers[1]", "host 1.1.1.1 is listed twice"}},
		{name: "bad hooks_output",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nhooks_output: loud\n"},
			want:  located{"config/deploy.yml", 4, "hooks_output", "must be quiet or verbose"}},
		{name: "migrations without cmd",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nmigrations:\n  timeout: 10\n"},
			want:  located{"config/deploy.yml", 4, "migrations.cmd", "missing (required when migrations is set)"}},
		{name: "destination name",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\n"},
			dest:  "../etc",
			want:  located{"", 0, "", "destination \"../etc\" must match ^[a-z0-9][a-z0-9_-]*$"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeApp(t, tc.files)
			_, err := Load(context.Background(), LoadOptions{Dir: dir, Destination: tc.dest, Env: lookupIn(tc.env)})
			got, ok := locate(err)
			if !ok || got != tc.want {
				t.Fatalf("error %v\n  got  %#v\n  want %#v", err, got, tc.want)
			}
			// What the user reads must name the config path, not ours.
			if strings.Contains(err.Error(), dir) {
				t.Fatalf("error names the absolute temp path instead of the config path: %s", err)
			}
		})
	}
}

func TestExtensionKeysIgnored(t *testing.T) {
	dir := writeApp(t, map[string]string{"config/deploy.yml": okHead + "x-common: &c\n  memory: 1g\nservers:\n  x-template: {}\n  web:\n    hosts: [1.1.1.1]\n    options: *c\n    x-note: anything\n"})
	c, err := Load(context.Background(), LoadOptions{Dir: dir, Env: lookupIn(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.RoleNames(); len(got) != 1 || got[0] != "web" {
		t.Fatalf("roles = %v", got)
	}
	if got := c.Role("web").Options["memory"]; len(got) != 1 || got[0] != "1g" {
		t.Fatalf("options from anchor = %v", c.Role("web").Options)
	}
}

func TestAliasBombRefused(t *testing.T) {
	y := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := 0; i < 8; i++ {
		name := string(rune('b' + i))
		y += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	_, err := LoadBytes(context.Background(), "bomb.yml", []byte(y), LoadOptions{Env: lookupIn(nil)})
	if got, ok := locate(err); !ok || got.File != "bomb.yml" || got.Msg != "document too large after expanding aliases" {
		t.Fatalf("want a size error, got %v", err)
	}
}

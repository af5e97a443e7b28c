package fleetops

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

func loadKeys(t *testing.T, yml string, env map[string]string) *spec.Config {
	t.Helper()
	cfg, err := spec.LoadBytes(context.Background(), "config/deploy.yml", []byte("service: app\nimage: app\n"+yml),
		spec.LoadOptions{NoSecretsFiles: true, Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestKamal1TraefikKeys: traefik.image is the Traefik image the sidecar
// boots, host_port its published HTTP port, publish: false publishes no
// port (pkg/traefik TestStaticContainerSpec shows the ports on the
// container).
func TestKamal1TraefikKeys(t *testing.T) {
	s := &Session{Cfg: loadKeys(t, "servers: [1.1.1.1]\ntraefik:\n  image: traefik:v3.1\n  host_port: 8080\n", nil)}
	if req := s.traefikRequest(); req.Image != "traefik:v3.1" || req.HTTPPort != 8080 {
		t.Errorf("image %q port %d, want traefik:v3.1 on 8080", req.Image, req.HTTPPort)
	}
	s = &Session{Cfg: loadKeys(t, "servers: [1.1.1.1]\ntraefik:\n  publish: false\n", nil)}
	if req := s.traefikRequest(); req.HTTPPort != -1 || req.HTTPSPort != -1 || req.Image != s.traefikImage() {
		t.Errorf("publish false: ports %d/%d, want -1/-1 (none published)", req.HTTPPort, req.HTTPSPort)
	}
	s = &Session{Cfg: loadKeys(t, "servers: [1.1.1.1]\n", nil)}
	if req := s.traefikRequest(); req.HTTPPort != 0 || req.HTTPSPort != 0 {
		t.Errorf("defaults: ports %d/%d, want 0/0 (the sidecar's defaults)", req.HTTPPort, req.HTTPSPort)
	}
}

// TestPrimaryRoleBootsFirst: primary_role names the role whose first host
// deploys first, alone (and where migrations run).
func TestPrimaryRoleBootsFirst(t *testing.T) {
	for _, tc := range []struct{ yml, want string }{
		{"servers:\n  web: [1.1.1.1, 2.2.2.2]\n  workers:\n    hosts: [3.3.3.3, 4.4.4.4]\n    cmd: jobs\nprimary_role: workers\n", "3.3.3.3/workers"},
		{"servers:\n  web: [1.1.1.1, 2.2.2.2]\n  workers:\n    hosts: [3.3.3.3]\n    cmd: jobs\n", "1.1.1.1/web"},
	} {
		s := &Session{Cfg: loadKeys(t, tc.yml, nil)}
		p, err := s.plan()
		if err != nil {
			t.Fatal(err)
		}
		first := p.Stages[0]
		if len(first.Targets) != 1 || first.Targets[0].Host+"/"+first.Targets[0].Role != tc.want {
			t.Errorf("first stage %+v, want %s alone", first, tc.want)
		}
		if h := s.primaryHost(); h != strings.Split(tc.want, "/")[0] {
			t.Errorf("primary host (migrations, lock) %s, want %s", h, tc.want)
		}
	}
}

// TestSSHOptionsPortKeysSSHKit: ssh.port, keys and keys_only and sshkit's
// max_concurrent_starts and dns_retries reach the transport (pkg/transport
// TestResolve, TestKeysOnly, TestPoolMaxConcurrentDials and
// TestPoolDNSRetries show their effect there).
func TestSSHOptionsPortKeysSSHKit(t *testing.T) {
	o := SSHOptions(loadKeys(t, "servers: [1.1.1.1]\nssh:\n  port: 2222\n  keys: [~/.ssh/deploy]\n  keys_only: true\n"+
		"sshkit:\n  max_concurrent_starts: 3\n  dns_retries: 2\n", nil))
	if o.Port != 2222 || !slices.Equal(o.KeyFiles, []string{"~/.ssh/deploy"}) || !o.KeysOnly || o.MaxConcurrentDials != 3 || o.DNSRetries != 2 {
		t.Errorf("options %+v", o)
	}
	o = SSHOptions(loadKeys(t, "servers: [1.1.1.1]\n", nil))
	if o.Port != 22 || o.KeyFiles != nil || o.KeysOnly || o.MaxConcurrentDials != 0 || o.DNSRetries != 0 {
		t.Errorf("defaults %+v", o)
	}
}

// TestMigrationsTimeout: migrations.timeout bounds the migration run.
func TestMigrationsTimeout(t *testing.T) {
	cfg := loadKeys(t, "servers: [1.1.1.1]\nmigrations:\n  cmd: bin/rails db:migrate\n  timeout: 90s\n", nil)
	if got := migrationTimeout(cfg); got != 90*time.Second {
		t.Errorf("timeout %v, want 90s", got)
	}
	cfg = loadKeys(t, "servers: [1.1.1.1]\nmigrations:\n  cmd: bin/rails db:migrate\n", nil)
	if got := migrationTimeout(cfg); got != DefaultMigrationTimeout {
		t.Errorf("default timeout %v, want %v", got, DefaultMigrationTimeout)
	}
}

// TestSidecarMonitorPublished: sidecar.monitor is where the host publishes
// the sidecar's read-only monitoring listener.
func TestSidecarMonitorPublished(t *testing.T) {
	args := strings.Join(sidecarRunArgs(loadKeys(t, "servers: [1.1.1.1]\nsidecar:\n  monitor: 0.0.0.0:9400\n", nil), "1.0.0"), " ")
	if !strings.Contains(args, "-p 0.0.0.0:9400:") {
		t.Errorf("run args %q, want the listener published on 0.0.0.0:9400", args)
	}
	args = strings.Join(sidecarRunArgs(loadKeys(t, "servers: [1.1.1.1]\n", nil), "1.0.0"), " ")
	if !strings.Contains(args, "-p 127.0.0.1:9321:") {
		t.Errorf("default run args %q, want 127.0.0.1:9321", args)
	}
}

// TestAccessoryHostsFromRolesAndTags: accessories.*.role(s) and tag(s)
// place the accessory on the hosts of those roles, or carrying those tags.
func TestAccessoryHostsFromRolesAndTags(t *testing.T) {
	cfg := loadKeys(t, "servers:\n  web: [1.1.1.1, 2.2.2.2]\n  jobs:\n    hosts: [3.3.3.3, {4.4.4.4: [gpu]}]\n    cmd: jobs\n"+
		"accessories:\n"+
		"  a:\n    image: redis\n    role: jobs\n"+
		"  b:\n    image: redis\n    roles: [web, jobs]\n"+
		"  c:\n    image: redis\n    tag: gpu\n"+
		"  d:\n    image: redis\n    tags: [gpu, none]\n", nil)
	want := map[string][]string{"a": {"3.3.3.3", "4.4.4.4"}, "b": {"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"}, "c": {"4.4.4.4"}, "d": {"4.4.4.4"}}
	for name, hosts := range want {
		if got := cfg.Accessory(name).Hosts; !slices.Equal(got, hosts) {
			t.Errorf("accessory %s on %v, want %v", name, got, hosts)
		}
	}
}

type loginHost struct {
	cmds, stdins []string
}

func (h *loginHost) Host() string { return "1.1.1.1" }
func (h *loginHost) Run(_ context.Context, cmd string, stdin io.Reader, _, _ io.Writer) error {
	b, _ := io.ReadAll(stdin)
	h.cmds, h.stdins = append(h.cmds, cmd), append(h.stdins, string(b))
	return nil
}

// TestAccessoryRegistryLogin: an accessory with its own registry logs the
// host in to that registry before its docker run pulls the image, the
// password on stdin, never on the command line.
func TestAccessoryRegistryLogin(t *testing.T) {
	cfg := loadKeys(t, "servers: [1.1.1.1]\naccessories:\n  db:\n    image: reg.example.org/team/db:1\n    host: 1.1.1.1\n"+
		"    registry:\n      server: reg.example.org\n      username: robot\n      password: [DB_REGISTRY_PASSWORD]\n",
		map[string]string{"DB_REGISTRY_PASSWORD": "s3cret-pw"})
	var out bytes.Buffer
	s := newSession(Options{}, cfg, output.New(&out, &out, output.Verbose, nil), nil)
	h := &loginHost{}
	if err := s.accessoryLogin(context.Background(), h, cfg.Accessory("db")); err != nil {
		t.Fatal(err)
	}
	if len(h.cmds) != 1 || h.cmds[0] != "docker login reg.example.org --username robot --password-stdin" || h.stdins[0] != "s3cret-pw" {
		t.Errorf("login %q stdin %q", h.cmds, h.stdins)
	}
	cfg = loadKeys(t, "servers: [1.1.1.1]\naccessories:\n  db:\n    image: redis\n    host: 1.1.1.1\n", nil)
	h = &loginHost{}
	if err := s.accessoryLogin(context.Background(), h, cfg.Accessory("db")); err != nil || len(h.cmds) != 0 {
		t.Errorf("no registry: ran %q (%v), want nothing", h.cmds, err)
	}
}

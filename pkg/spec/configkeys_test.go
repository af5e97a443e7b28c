package spec

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// TestKamal1HealthcheckOnTheWire: Kamal 1 healthcheck interval and
// max_attempts shape the sidecar's HTTP probe (its interval, and a deploy
// timeout no shorter than Kamal 1's back-off budget); healthcheck.cmd
// becomes the container's docker health-cmd with that interval (pkg/docker
// TestApplyExtra shows health-cmd reaching the engine).
func TestKamal1HealthcheckOnTheWire(t *testing.T) {
	c, err := loadYAML(t, okHead+"servers: [1.1.1.1]\nhealthcheck:\n  path: /health\n  port: 3001\n  interval: 3s\n  max_attempts: 10\n")
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy("web", "1.1.1.1", "v1", "app:v1", "")
	if err != nil {
		t.Fatal(err)
	}
	if h := d.Healthcheck; h.Kind != contract.HealthHTTP || h.Path != "/health" || h.Port != 3001 || h.Interval.D() != 3*time.Second {
		t.Errorf("probe %+v, want HTTP /health on 3001 every 3s", h)
	}
	if want := 3 * time.Second * 55; d.DeployTimeout.D() != want { // 3s × (1+2+…+10)
		t.Errorf("deploy timeout %v, want %v (Kamal 1's back-off over 10 attempts)", d.DeployTimeout.D(), want)
	}
	c, err = loadYAML(t, okHead+"servers: [1.1.1.1]\nhealthcheck:\n  cmd: /bin/true\n  interval: 2s\n")
	if err != nil {
		t.Fatal(err)
	}
	if d, err = c.Deploy("web", "1.1.1.1", "v1", "app:v1", ""); err != nil {
		t.Fatal(err)
	}
	if d.Healthcheck.Kind != contract.HealthDocker || !slices.Equal(d.Options.Extra["health-cmd"], []string{"/bin/true"}) ||
		!slices.Equal(d.Options.Extra["health-interval"], []string{"2s"}) {
		t.Errorf("cmd: probe %+v extra %v, want docker health-cmd /bin/true every 2s", d.Healthcheck, d.Options.Extra)
	}
}

// TestKeysRefusedAtLoad: keys docker kamal cannot honour fail the load,
// at their line, saying why and what to do instead.
func TestKeysRefusedAtLoad(t *testing.T) {
	const head = okHead + "servers: [1.1.1.1]\n"
	tests := []struct {
		name, yml string
		want      located
	}{
		{"run_directory", head + "run_directory: /var/kamal\n",
			located{"config/deploy.yml", 4, "run_directory", msgRunDirectory}},
		{"pool_idle_timeout", head + "sshkit:\n  pool_idle_timeout: 300\n",
			located{"config/deploy.yml", 5, "sshkit.pool_idle_timeout", msgPoolIdleTimeout}},
		{"cord", head + "healthcheck:\n  cord: /tmp/cord\n",
			located{"config/deploy.yml", 5, "healthcheck.cord", msgCord}},
		{"role cord", okHead + "servers:\n  web:\n    hosts: [1.1.1.1]\n    healthcheck:\n      cord: false\n",
			located{"config/deploy.yml", 7, "servers.web.healthcheck.cord", msgCord}},
		{"output file", head + "output:\n  file:\n    path: log/kamal.log\n",
			located{"config/deploy.yml", 6, "output.file.path", msgOutput}},
		{"output otel", head + "output:\n  otel:\n    endpoint: http://otel:4318\n",
			located{"config/deploy.yml", 6, "output.otel.endpoint", msgOutput}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadYAML(t, tc.yml)
			if got, ok := locate(err); !ok || got != tc.want {
				t.Fatalf("error %v\n  got  %#v\n  want %#v", err, got, tc.want)
			}
		})
	}
}

// TestAllowEmptyRoles: a role without hosts fails the load unless
// allow_empty_roles is true; then it is kept and deploys nowhere.
func TestAllowEmptyRoles(t *testing.T) {
	const servers = "servers:\n  web: [1.1.1.1]\n  jobs:\n    hosts: []\n    cmd: jobs\n"
	_, err := loadYAML(t, okHead+servers)
	if got, ok := locate(err); !ok || got.Key != "servers.jobs" || got.Line != 5 {
		t.Fatalf("without allow_empty_roles: %v, want an error at servers.jobs (line 5)", err)
	}
	c, err := loadYAML(t, okHead+servers+"allow_empty_roles: true\n")
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Role("jobs"); r == nil || len(r.Hosts) != 0 || !slices.Equal(c.AllHosts(), []string{"1.1.1.1"}) {
		t.Errorf("allow_empty_roles: role %+v, hosts %v", r, c.AllHosts())
	}
}

// TestSecretsPath: secrets_path is where the secrets file is read (with its
// -common and .<destination> variants), instead of .kamal/secrets.
func TestSecretsPath(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"config/deploy.yml":           okHead + "servers: [1.1.1.1]\nsecrets_path: config/kamal-secrets\nenv:\n  secret: [A, B]\n",
		"config/kamal-secrets-common": "A=from-common\n",
		"config/kamal-secrets":        "B=from-path\n",
		".kamal/secrets":              "A=wrong\nB=wrong\n",
	})
	c, err := Load(context.Background(), LoadOptions{Dir: dir, Env: lookupIn(nil)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy("web", "1.1.1.1", "v1", "app:v1", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.SecretEnv["A"] != "from-common" || d.SecretEnv["B"] != "from-path" {
		t.Errorf("secrets %v, want A from config/kamal-secrets-common and B from config/kamal-secrets", d.SecretEnv)
	}
}

// TestErrorPagesPath: error_pages_path's 502/503/504 pages (relative to
// the app root, as Kamal) travel in every proxied role's spec; other
// pages and roles without proxy carry none; a missing directory fails.
func TestErrorPagesPath(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"config/deploy.yml": okHead + "servers:\n  web: [1.1.1.1]\n  jobs:\n    hosts: [1.1.1.1]\n    cmd: jobs\n" +
			"proxy:\n  host: a.example.org\nerror_pages_path: public\n",
		"public/502.html": "<p>bad gateway</p>", "public/504.html": "<p>{{.Message}} slow</p>", "public/404.html": "<p>404</p>",
	})
	c, err := Load(context.Background(), LoadOptions{Dir: dir, Env: lookupIn(nil)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy("web", "1.1.1.1", "v1", "app:v1", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"502": "<p>bad gateway</p>", "504": "<p>{{.Message}} slow</p>"}; !maps.Equal(d.Proxy.ErrorPages, want) {
		t.Errorf("pages %v, want %v", d.Proxy.ErrorPages, want)
	}
	if r := d.Redacted(); r.Proxy.ErrorPages != nil || d.Proxy.ErrorPages == nil {
		t.Errorf("the label spec carries the pages (or Redacted changed the spec)")
	}
	if d, err = c.Deploy("jobs", "1.1.1.1", "v1", "app:v1", ""); err != nil || d.Proxy != nil {
		t.Errorf("jobs: %v %+v", err, d.Proxy)
	}
	_, err = loadYAML(t, okHead+"servers: [1.1.1.1]\nproxy:\n  host: a.example.org\nerror_pages_path: public\n")
	if got, ok := locate(err); !ok || got != (located{"config/deploy.yml", 6, "error_pages_path", "public (relative to the app root): no such directory"}) {
		t.Errorf("missing directory: %v", err)
	}
}

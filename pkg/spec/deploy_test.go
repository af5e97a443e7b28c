package spec

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

func loadRails(t testing.TB, dest string) *Config {
	t.Helper()
	c, err := Load(context.Background(), LoadOptions{Dir: "testdata/rails", Destination: dest, Env: lookupIn(nil)})
	if err != nil {
		t.Fatalf("load rails (-d %q): %v", dest, err)
	}
	return c
}

func TestDeployRailsKamal1(t *testing.T) {
	c := loadRails(t, "")
	if c.Generation != Kamal1 {
		t.Fatalf("generation = %d, want 1", c.Generation)
	}
	d, err := c.Deploy("web", "192.168.0.2", "abc123", "ghcr.io/37s/hey:abc123", "sha256:0123")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.ContainerName(); got != "hey-web-abc123" {
		t.Errorf("container name %q", got)
	}
	wantEnv := map[string]string{"RAILS_LOG_TO_STDOUT": "1", "DB_HOST": "192.168.0.4"}
	if !reflect.DeepEqual(d.Env, wantEnv) {
		t.Errorf("env = %v, want %v", d.Env, wantEnv)
	}
	wantSecrets := map[string]string{"RAILS_MASTER_KEY": "prod-master-key-111", "DATABASE_PASSWORD": "prod-db-pass-222"}
	if !reflect.DeepEqual(d.SecretEnv, wantSecrets) {
		t.Errorf("secret env = %v, want %v", d.SecretEnv, wantSecrets)
	}
	if d.Labels["service"] != "hey" || d.Labels["role"] != "web" {
		t.Errorf("labels = %v", d.Labels)
	}
	if _, leaked := d.Labels["traefik.http.routers.hey-web.rule"]; leaked {
		t.Errorf("traefik label left on container labels: %v", d.Labels)
	}
	if d.Proxy == nil || d.Proxy.TraefikLabels["traefik.http.routers.hey-web.tls.certresolver"] != "letsencrypt" {
		t.Fatalf("proxy = %+v", d.Proxy)
	}
	if d.Proxy.AppPort != 3000 {
		t.Errorf("app port %d, want 3000 (Kamal 1 healthcheck port)", d.Proxy.AppPort)
	}
	if d.Healthcheck.Kind != contract.HealthHTTP || d.Healthcheck.Path != "/up" || d.Healthcheck.Port != 3000 {
		t.Errorf("healthcheck = %+v", d.Healthcheck)
	}
	if d.Options.Memory != "512m" || d.Options.LogOpts["max-size"] != "10m" {
		t.Errorf("options = %+v", d.Options)
	}
	if d.StopTimeout.D() != 20*time.Second {
		t.Errorf("stop timeout %v, want 20s from stop_wait_time", d.StopTimeout.D())
	}
	if c.Registry.Password != "ghcr-token-s3cr3t" {
		t.Errorf("registry password not resolved from $(command)")
	}

	job, err := c.Deploy("job", "192.168.0.3", "abc123", "ghcr.io/37s/hey:abc123", "")
	if err != nil {
		t.Fatal(err)
	}
	if job.Proxy != nil || job.Healthcheck.Kind != contract.HealthRunning || job.Healthcheck.ReadinessDelay.D() != 7*time.Second {
		t.Errorf("job: proxy=%v healthcheck=%+v", job.Proxy, job.Healthcheck)
	}
	if !reflect.DeepEqual(job.Cmd, []string{"bin/jobs"}) || job.Options.CPUs != "2" || job.Options.Extra["cap-add"][0] != "SYS_PTRACE" {
		t.Errorf("job cmd=%v options=%+v", job.Cmd, job.Options)
	}
	if _, err := c.Deploy("web", "192.168.0.3", "v", "i", ""); err == nil {
		t.Error("deploy spec for a host outside the role: want error")
	}
	if got := c.Accessory("redis").Hosts; !reflect.DeepEqual(got, []string{"192.168.0.3"}) {
		t.Errorf("redis hosts (roles: [job]) = %v", got)
	}
	// boot.limit 50% of 4 hosts = 2 per batch.
	if got := c.Batches([]string{"a", "b", "c"}); len(got) != 2 || len(got[0]) != 2 {
		t.Errorf("batches = %v", got)
	}
	if c.Migrations == nil || c.Migrations.Timeout.D() != 5*time.Minute {
		t.Errorf("migrations = %+v", c.Migrations)
	}
}

func TestDeployRailsStaging(t *testing.T) {
	c := loadRails(t, "staging")
	if got := c.AllHosts(); !reflect.DeepEqual(got, []string{"staging-1.example.com"}) {
		t.Fatalf("hosts = %v", got)
	}
	d, err := c.Deploy("web", "staging-1.example.com", "abc123", "ghcr.io/37s/hey:abc123", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.ContainerName() != "hey-web-staging-abc123" || d.Labels["destination"] != "staging" {
		t.Errorf("name %s labels %v", d.ContainerName(), d.Labels)
	}
	if d.Env["RAILS_ENV"] != "staging" || d.Env["DB_HOST"] != "192.168.0.4" {
		t.Errorf("env not deep-merged: %v", d.Env)
	}
	if d.SecretEnv["RAILS_MASTER_KEY"] != "staging-master-key-333" || d.SecretEnv["DATABASE_PASSWORD"] != "staging-db-pass-444" {
		t.Errorf("staging secrets not used: %v", d.Redacted().SecretEnv)
	}
	if got := d.Proxy.TraefikLabels["traefik.http.routers.hey-web.rule"]; got != "Host(`staging.hey.example.com`)" {
		t.Errorf("rule = %q", got)
	}
	if got := d.Proxy.TraefikLabels["traefik.http.routers.hey-web.entrypoints"]; got != "websecure" {
		t.Errorf("labels not deep-merged: entrypoints = %q", got)
	}
}

func TestBootParallelRolesDefault(t *testing.T) {
	for _, tt := range []struct {
		name, boot string
		want       bool
	}{
		{"no boot section: role by role, as Kamal", "", false},
		{"boot without the key: role by role, as Kamal", "boot:\n  limit: 2\n", false},
		{"explicit true", "boot:\n  parallel_roles: true\n", true},
		{"explicit false", "boot:\n  parallel_roles: false\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeApp(t, map[string]string{"config/deploy.yml": okHead + "servers:\n  web: [1.1.1.1]\n  job: [1.1.1.2]\n" + tt.boot})
			c, err := Load(context.Background(), LoadOptions{Dir: dir, Env: lookupIn(nil)})
			if err != nil {
				t.Fatal(err)
			}
			if c.Boot.ParallelRoles != tt.want {
				t.Errorf("parallel roles = %v, want %v", c.Boot.ParallelRoles, tt.want)
			}
		})
	}
}

// asset_path is bridged by the sidecar (contract.Assets), never a plain
// bind mount that would hide the image's own files.
func TestDeployAssetPath(t *testing.T) {
	c, err := loadCompat(t, "v2", "deploy_with_assets.yml", "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy("web", "1.1.1.1", "v2", "dhh/app:v2", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Assets == nil || d.Assets.Path != "/public/assets" {
		t.Fatalf("assets = %+v, want path /public/assets", d.Assets)
	}
	for _, v := range d.Options.Volumes {
		if strings.Contains(v, "/public/assets") {
			t.Errorf("volume %q mounts over the image's assets", v)
		}
	}
}

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// Secrets of the fleet test app. None may appear in any output.
const (
	fleetDBPassword = "pg-s3cr3t-9f2c71"
	fleetMasterKey  = "mk-0d9e8f7a6b5c4d3e"
)

const fleetDeployYML = `service: kamal-e2e
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
      - %[2]s
  job:
    hosts:
      - %[3]s
    cmd: sampleapp serve
    env:
      clear:
        E2E_ROLE: job
    options:
      memory: 1g
proxy:
  app_port: 3000
  healthcheck:
    path: /up
env:
  clear:
    PORT: "3000"
    REDIS_URL: redis://%[3]s:6379/0
  secret:
    - DATABASE_URL
    - RAILS_MASTER_KEY
accessories:
  db:
    image: kamal-e2e-postgres:15
    host: %[3]s
    port: "5432"
    env:
      clear:
        POSTGRES_USER: app
        POSTGRES_DB: app_production
      secret:
        - POSTGRES_PASSWORD
    directories:
      - data:/var/lib/postgresql/data
  redis:
    image: kamal-e2e-redis:7
    host: %[3]s
    port: "6379"
migrations:
  cmd: sampleapp migrate
readiness_delay: 2
deploy_timeout: 25
drain_timeout: 10
ssh:
  config: %[4]s
`

const fleetStagingYML = `env:
  clear:
    RAILS_ENV: staging
`

// The secrets file uses command substitution and variable references, as
// real ones do.
const fleetSecrets = `POSTGRES_PASSWORD=$(printf %%s %[1]s)
DATABASE_URL=postgres://app:${POSTGRES_PASSWORD}@%[2]s:5432/app_production?sslmode=disable
RAILS_MASTER_KEY=%[3]s
`

const hookScript = `#!/bin/sh
env | grep '^KAMAL_' | sort > "$(dirname "$0")/../../hook-$(basename "$0").env"
`

// roleFailEntrypoint makes an image fail to start for the job role only,
// so a deploy fails on the last host after the web hosts switched.
const roleFailDockerfile = `FROM kamal-e2e-app:v1
ENV APP_VERSION=%[1]s %[2]s
RUN printf '#!/bin/sh\nif [ "$E2E_ROLE" = job ] && [ "$FAIL_JOB" = 1 ]; then echo "job refuses to start" >&2; exit 3; fi\nexec "$@"\n' > /e2e-entry && chmod +x /e2e-entry
ENTRYPOINT ["/e2e-entry"]
CMD ["sampleapp", "serve"]
`

// buildVariant makes kamal-e2e-app:<version> from v1 with extra env. The
// versions are named for this test so no other test's image of the same
// tag is replaced.
func buildVariant(t *testing.T, ctx context.Context, version, extraEnv string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "docker", "build", "-q", "--label", "kamal-e2e-image=1", "-t", "kamal-e2e-app:"+version, "-")
	cmd.Stdin = strings.NewReader(fmt.Sprintf(roleFailDockerfile, version, extraEnv))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build variant %s: %v\n%s", version, err, out)
	}
}

// fleetLoad runs constant load through both web hosts' Traefik.
type fleetLoad struct {
	gens []*loadgen.Generator
}

func startFleetLoad(t *testing.T, ctx context.Context, f *harness.Fleet, hosts ...*harness.Host) *fleetLoad {
	t.Helper()
	l := &fleetLoad{}
	for _, h := range hosts {
		g, err := loadgen.Start(ctx, loadgen.Config{
			URL: "http://" + h.Addr.String() + "/", Rate: 50, Duration: 5 * time.Minute, Count: 15000,
			Allow: []netip.Prefix{f.Subnet},
		})
		if err != nil {
			t.Fatal(err)
		}
		l.gens = append(l.gens, g)
	}
	return l
}

// stop ends the load and fails the test on any non-2xx or transport
// error; it returns the versions seen last on each host.
func (l *fleetLoad) stop(t *testing.T, what string) []string {
	t.Helper()
	var last []string
	for _, g := range l.gens {
		rep := g.Stop()
		s := rep.Summary
		t.Logf("%s: load on %s: %d requests, %d ok, %d non-2xx, %d errors, p99 %v", what, s.URL, s.Total, s.OK, s.Non2xx, s.Errors, s.P99)
		if s.Total == 0 || s.Non2xx != 0 || s.Errors != 0 {
			t.Errorf("%s: load on %s: want every request 2xx:\n%s", what, s.URL, s)
		}
		// The version of the last answered request: the timeline is
		// ordered by first sighting, so an A, B, A run would end on B.
		for i := len(rep.Results) - 1; i >= 0; i-- {
			if rep.Results[i].OK() {
				last = append(last, rep.Results[i].Version)
				break
			}
		}
	}
	return last
}

// TestFleetDeploy drives the plugin through the docker CLI against three
// real hosts: web on two, job on one, PostgreSQL and Redis accessories, under
// constant load through both web hosts' Traefik.
func TestFleetDeploy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v2"} {
		if _, err := harness.BuildSampleApp(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	// Tags unique to this run: another test process on the machine may
	// build and remove its own variants meanwhile.
	stamp := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffff)
	v3, v4 := "fleet-v3-"+stamp, "fleet-v4-"+stamp
	buildVariant(t, ctx, v3, "NEVER_HEALTHY=1")
	buildVariant(t, ctx, v4, "FAIL_JOB=1")
	t.Cleanup(func() {
		exec.Command("docker", "image", "rm", "kamal-e2e-app:"+v3, "kamal-e2e-app:"+v4).Run() //nolint:errcheck // best effort
	})
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 3)
	web1, web2, job := f.Hosts[0], f.Hosts[1], f.Hosts[2]

	app := t.TempDir()
	writeFile(t, filepath.Join(app, "config", "deploy.yml"), fmt.Sprintf(fleetDeployYML, web1.Addr, web2.Addr, job.Addr, f.SSHConfig), 0o644)
	writeFile(t, filepath.Join(app, "config", "deploy.staging.yml"), fleetStagingYML, 0o644)
	writeFile(t, filepath.Join(app, ".kamal", "secrets"), fmt.Sprintf(fleetSecrets, fleetDBPassword, job.Addr, fleetMasterKey), 0o600)
	// A destination reads .kamal/secrets.<dest> instead, as in Kamal.
	writeFile(t, filepath.Join(app, ".kamal", "secrets.staging"), fmt.Sprintf(fleetSecrets, fleetDBPassword, job.Addr, fleetMasterKey), 0o600)
	writeFile(t, filepath.Join(app, ".kamal", "hooks", "pre-deploy"), hookScript, 0o755)
	writeFile(t, filepath.Join(app, ".kamal", "hooks", "post-deploy"), hookScript, 0o755)
	env := []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik, "DOCKER_KAMAL_SHIP_COMPRESS=0"}
	log := &outputLog{}
	kamal := func(args ...string) kamalRun { return plugin.kamal(ctx, app, env, log, args...) }
	t.Cleanup(func() {
		all := log.String()
		for _, secret := range []string{fleetDBPassword, fleetMasterKey} {
			if strings.Contains(all, secret) {
				t.Errorf("a secret value appeared in the plugin's output")
			}
		}
		if t.Failed() {
			t.Logf("plugin output:\n%s", all)
		}
	})

	// The staging destination merges over the base.
	if out := kamal("config", "-d", "staging").must(t).out; !strings.Contains(out, "RAILS_ENV: staging") {
		t.Errorf("config -d staging does not show the merged env:\n%s", out)
	}

	if !t.Run("setup from blank hosts and deploy v1", func(t *testing.T) {
		r := kamal("setup", "--skip-push", "--version", "v1").must(t)
		t.Logf("setup + deploy v1 took %v", r.took.Round(time.Millisecond))
		for _, h := range []*harness.Host{web1, web2} {
			waitVersion(t, ctx, f, "http://"+h.Addr.String()+"/", "v1")
		}
	}) {
		return
	}

	if !t.Run("deploy v2 under load, migrations once", func(t *testing.T) {
		load := startFleetLoad(t, ctx, f, web1, web2)
		r := kamal("deploy", "--skip-push", "--version", "v2")
		last := load.stop(t, "deploy v2")
		r.must(t)
		t.Logf("deploy v2 took %v", r.took.Round(time.Millisecond))
		for _, v := range last {
			if v != "v2" {
				t.Errorf("after deploy v2 the load last saw %q", v)
			}
		}
		rows := migrations(t, ctx, job)
		if rows["v1"] != 1 || rows["v2"] != 1 {
			t.Errorf("migrations ran %v; want exactly once for v1 and once for v2", rows)
		}
	}) {
		return
	}

	if !t.Run("hooks see KAMAL_ env", func(t *testing.T) {
		for _, hook := range []string{"pre-deploy", "post-deploy"} {
			data, err := os.ReadFile(filepath.Join(app, "hook-"+hook+".env"))
			if err != nil {
				t.Fatalf("hook %s did not run: %v", hook, err)
			}
			for _, want := range []string{"KAMAL_SERVICE=kamal-e2e", "KAMAL_VERSION=v2", "KAMAL_HOSTS=" + web1.Addr.String(), "KAMAL_PERFORMER="} {
				if !strings.Contains(string(data), want) {
					t.Errorf("hook %s env lacks %q:\n%s", hook, want, data)
				}
			}
		}
	}) {
		return
	}

	if !t.Run("memory option is a real limit", func(t *testing.T) {
		out, err := job.Docker(ctx, "inspect", "--format", "{{.HostConfig.Memory}}", "kamal-e2e-job-v2")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out) != "1073741824" {
			t.Errorf("job container memory limit = %q, want 1073741824 (1g)", out)
		}
	}) {
		return
	}

	if !t.Run("rollback to v1 under load", func(t *testing.T) {
		load := startFleetLoad(t, ctx, f, web1, web2)
		r := kamal("rollback", "v1")
		last := load.stop(t, "rollback v1")
		r.must(t)
		t.Logf("rollback to v1 took %v", r.took.Round(time.Millisecond))
		if strings.Contains(r.out, "ship ") {
			t.Errorf("rollback shipped an image:\n%s", r.out)
		}
		for _, v := range last {
			if v != "v1" {
				t.Errorf("after rollback the load last saw %q", v)
			}
		}
	}) {
		return
	}

	if !t.Run("maintenance page and live again", func(t *testing.T) {
		kamal("app", "maintenance", "--message", "Back at noon").must(t)
		for _, h := range []*harness.Host{web1, web2} {
			status, body := httpGet(t, ctx, "http://"+h.Addr.String()+"/")
			if status != http.StatusServiceUnavailable || !strings.Contains(body, "Back at noon") {
				t.Errorf("%s in maintenance answered %d %q; want 503 with the message", h.Name, status, body)
			}
		}
		kamal("app", "live").must(t)
		for _, h := range []*harness.Host{web1, web2} {
			waitVersion(t, ctx, f, "http://"+h.Addr.String()+"/", "v1")
		}
	}) {
		return
	}

	if !t.Run("never-healthy v3 leaves v1 serving", func(t *testing.T) {
		load := startFleetLoad(t, ctx, f, web1, web2)
		r := kamal("deploy", "--skip-push", "--version", v3)
		last := load.stop(t, "deploy v3")
		if r.err == nil {
			t.Fatalf("deploy of a never-healthy version succeeded:\n%s", r.out)
		}
		// It must fail for the right reason: the health check, with the
		// new container's log lines in the error.
		if !strings.Contains(r.out, "wait-healthy") || !strings.Contains(r.out, "last log lines") {
			t.Errorf("deploy of a never-healthy version failed for another reason:\n%s", r.out)
		}
		for _, v := range last {
			if v != "v1" {
				t.Errorf("after a failed deploy the load last saw %q, want v1", v)
			}
		}
	}) {
		return
	}

	if !t.Run("v4 failing on the last host rolls the fleet back", func(t *testing.T) {
		load := startFleetLoad(t, ctx, f, web1, web2)
		r := kamal("deploy", "--skip-push", "--version", v4)
		last := load.stop(t, "deploy v4")
		if r.err == nil {
			t.Fatalf("deploy of v4 succeeded though the job cannot start:\n%s", r.out)
		}
		if !strings.Contains(r.out, "rolled back") || !strings.Contains(r.out, "job refuses to start") {
			t.Errorf("output does not report the job's failure and the rollback:\n%s", r.out)
		}
		for _, v := range last {
			if v != "v1" {
				t.Errorf("after the fleet rollback the load last saw %q, want v1", v)
			}
		}
		live := liveVersions(t, ctx, f)
		for h, v := range live {
			if v != "v1" {
				t.Errorf("%s runs %s after the fleet rollback; the fleet must stay on v1 (%v)", h, v, live)
			}
		}
	}) {
		return
	}

	if !t.Run("concurrent deploys: one proceeds, the other names the holder", func(t *testing.T) {
		var wg sync.WaitGroup
		runs := make([]kamalRun, 2)
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runs[i] = kamal("deploy", "--skip-push", "--version", "v2")
			}()
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, r := range runs {
			switch {
			case r.err == nil:
				ok++
			case strings.Contains(r.out, "lock") && strings.Contains(r.out, "@"):
				refused++
			default:
				t.Errorf("a concurrent deploy failed for another reason:\n%s", r.out)
			}
		}
		if ok != 1 || refused != 1 {
			t.Errorf("concurrent deploys: %d succeeded, %d refused on the lock; want 1 and 1", ok, refused)
		}
	}) {
		return
	}

	if !t.Run("lock acquire blocks deploys until lock release", func(t *testing.T) {
		kamal("lock", "acquire", "-m", "database maintenance").must(t)
		if out := kamal("lock", "status").must(t).out; !strings.Contains(out, "database maintenance") || !strings.Contains(out, "Locked by:") {
			t.Errorf("lock status does not show the lock:\n%s", out)
		}
		r := kamal("deploy", "--skip-push", "--version", "v2")
		if r.err == nil || !strings.Contains(r.out, "database maintenance") && !strings.Contains(r.out, "held by") {
			t.Errorf("a deploy under a held lock did not fail naming the holder: %v\n%s", r.err, r.out)
		}
		kamal("lock", "release").must(t)
		if out := kamal("lock", "status").must(t).out; !strings.Contains(out, "no deploy lock") {
			t.Errorf("lock status after release:\n%s", out)
		}
	}) {
		return
	}

	if !t.Run("build deliver builds and ships to every host", func(t *testing.T) {
		writeFile(t, filepath.Join(app, "Dockerfile"), "FROM kamal-e2e-app:v1\nENV APP_VERSION=built1\n", 0o644)
		t.Cleanup(func() {
			exec.Command("docker", "image", "rm", "kamal-e2e-app:built1", "kamal-e2e-app:latest").Run() //nolint:errcheck // best effort
		})
		r := kamal("build", "deliver", "--version", "built1").must(t)
		for _, h := range f.Hosts {
			if _, err := h.Docker(ctx, "image", "inspect", "kamal-e2e-app:built1"); err != nil {
				t.Errorf("%s lacks the delivered image: %v\n%s", h.Name, err, r.out)
			}
		}
	}) {
		return
	}

	if !t.Run("a changed host key aborts", func(t *testing.T) {
		bad := t.TempDir()
		data, err := os.ReadFile(f.KnownHosts)
		if err != nil {
			t.Fatal(err)
		}
		// Swap host1's and host2's keys: both are valid keys, neither is right.
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		var swapped []string
		for _, l := range lines {
			fields := strings.Fields(l)
			switch {
			case strings.HasPrefix(fields[0], web1.Name+","):
				fields[0] = web2.Name + "," + web2.Addr.String()
			case strings.HasPrefix(fields[0], web2.Name+","):
				fields[0] = web1.Name + "," + web1.Addr.String()
			}
			swapped = append(swapped, strings.Join(fields, " "))
		}
		writeFile(t, filepath.Join(bad, "known_hosts"), strings.Join(swapped, "\n")+"\n", 0o644)
		cfg, err := os.ReadFile(f.SSHConfig)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(bad, "ssh_config"), strings.ReplaceAll(string(cfg), f.KnownHosts, filepath.Join(bad, "known_hosts")), 0o644)
		deployYML, err := os.ReadFile(filepath.Join(app, "config", "deploy.yml"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(app, "config", "deploy.badkey.yml"), strings.ReplaceAll(string(deployYML), f.SSHConfig, filepath.Join(bad, "ssh_config")), 0o644)
		r := kamal("deploy", "-c", "config/deploy.badkey.yml", "--skip-push", "--version", "v2")
		if r.err == nil {
			t.Fatalf("deploy with a changed host key succeeded:\n%s", r.out)
		}
		if !strings.Contains(strings.ToLower(r.out), "host key") {
			t.Errorf("error does not say the host key changed:\n%s", r.out)
		}
	}) {
		return
	}
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// waitVersion polls url until it answers 200 with version.
func waitVersion(t testing.TB, ctx context.Context, f *harness.Fleet, url, version string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		rep, err := loadgen.Run(ctx, loadgen.Config{URL: url, Count: 1, Rate: 10, Allow: []netip.Prefix{f.Subnet}})
		if err == nil && len(rep.Results) == 1 {
			r := rep.Results[0]
			if r.OK() && r.Version == version {
				return
			}
			last = fmt.Sprintf("status %d version %q err %q", r.Status, r.Version, r.Err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	t.Fatalf("%s never served %s; last: %s", url, version, last)
}

// migrations counts the sample app's migration runs by version.
func migrations(t testing.TB, ctx context.Context, dbHost *harness.Host) map[string]int {
	t.Helper()
	out, err := dbHost.Docker(ctx, "exec", "kamal-e2e-db", "psql", "-U", "app", "-d", "app_production", "-At", "-c",
		"SELECT version, count(*) FROM kamal_e2e_migrations GROUP BY version")
	if err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	rows := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var v string
		var n int
		if _, err := fmt.Sscanf(strings.ReplaceAll(line, "|", " "), "%s %d", &v, &n); err == nil {
			rows[v] = n
		}
	}
	return rows
}

// liveVersions reads the running app containers' versions on every host.
func liveVersions(t testing.TB, ctx context.Context, f *harness.Fleet) map[string]string {
	t.Helper()
	live := map[string]string{}
	for _, h := range f.Hosts {
		out, err := h.Docker(ctx, "ps", "--filter", "label=kamal.service=kamal-e2e", "--format", `{{.Label "kamal.role"}}={{.Label "kamal.version"}}`)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Fields(out) {
			live[h.Name+"/"+line[:strings.Index(line, "=")]] = line[strings.Index(line, "=")+1:]
		}
	}
	return live
}

// httpGet does one bounded GET and returns status and body.
func httpGet(t testing.TB, ctx context.Context, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(body)
}

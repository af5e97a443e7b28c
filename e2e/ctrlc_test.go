package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// The Ctrl-C test app: web behind Traefik on three hosts, one host per
// batch after the primary, with a boot.wait before the last batch (the
// window between batches). It builds from a Dockerfile whose slow RUN step
// is the build's window; %[5]s is the migrations block of a subtest.
const ctrlcDeployYML = `service: kamal-intr
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
      - %[2]s
      - %[3]s
proxy:
  app_port: 3000
  healthcheck:
    path: /up
builder:
  arch: amd64
boot:
  limit: 1
  wait: 8
env:
  clear:
    PORT: "3000"
readiness_delay: 1
deploy_timeout: 30
drain_timeout: 30
ssh:
  config: %[4]s
%[5]s`

// ctrlcDockerfile is the app's own Dockerfile: its RUN step takes long
// enough to be interrupted. The nonce keeps BuildKit from finding it in a
// cache from an earlier run.
const ctrlcDockerfile = "FROM kamal-e2e-app:v1\nRUN echo %s && sleep 60\n"

// ctrlcVariantDockerfile makes a fresh version from v1: its own
// APP_VERSION, extra env, and a RUN step (a big layer makes a slow ship).
const ctrlcVariantDockerfile = "FROM kamal-e2e-app:v1\nENV APP_VERSION=%s %s\nRUN %s\n"

// ctrlcPhase is one moment of a deploy to interrupt.
type ctrlcPhase struct {
	name string
	// build: the deploy builds (no --skip-push); else the version is a
	// prebuilt variant with env and run (its Dockerfile's RUN step).
	build    bool
	env, run string
	// migrations is the deploy.yml migrations block for this deploy.
	migrations string
	// slow keeps a request to the old version in flight on the primary
	// (it holds the drain open).
	slow bool
	// reached waits until the deploy is in the phase.
	reached func(t *testing.T, c *ctrlcRun)
	// notYet is output that would say the phase was over when the
	// interrupt came ({v}: the version).
	notYet string
}

// ctrlcRun is one interrupted deploy.
type ctrlcRun struct {
	app     *surfaceApp
	b       *bgKamal
	version string
	hosts   []*harness.Host
}

// TestCtrlCAtEveryPhase interrupts a deploy of a fresh version the way a
// terminal does (SIGINT to the process group) in each phase: build, ship,
// migrate, the primary's swap before its cutover, the primary's drain
// after its cutover, and between batches (two hosts switched, one not).
// Each time: exit 130, a CANCELLED line and what each host serves, the
// lock free, and every host on the version it served before.
func TestCtrlCAtEveryPhase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	a, hosts := startCtrlCApp(t, ctx)
	h1, h2 := hosts[0].Addr.String(), hosts[1].Addr.String()
	slowMigration := "migrations:\n  cmd: sleep 60\n"
	phases := []ctrlcPhase{
		{name: "build", build: true, notYet: "build kamal-e2e-app:{v}: done", reached: func(t *testing.T, c *ctrlcRun) {
			c.b.waitLine(t, "RUN echo", 2*time.Minute)
		}},
		{name: "ship", run: "head -c 200000000 /dev/urandom > /blob", notYet: "  ship: done", reached: func(t *testing.T, c *ctrlcRun) {
			c.b.waitLine(t, "Ship kamal-e2e-app:"+c.version, time.Minute)
		}},
		{name: "migrate", migrations: slowMigration, notYet: "migrations: done", reached: func(t *testing.T, c *ctrlcRun) {
			c.b.waitLine(t, "Migrate on the primary host", time.Minute)
			waitFor(t, time.Minute, "the migration running on the primary", func() bool {
				return migrationContainers(t, ctx, hosts[0]) != ""
			})
		}},
		{name: "primary swap before cutover", env: "SLOW_START_MS=10000", notYet: "[" + h1 + "] web cutover", reached: func(t *testing.T, c *ctrlcRun) {
			c.b.waitLine(t, "["+h1+"] web wait-healthy: start", time.Minute)
		}},
		{name: "primary drain after cutover", slow: true, notYet: "[" + h1 + "] web drain-blue: done", reached: func(t *testing.T, c *ctrlcRun) {
			c.b.waitLine(t, "["+h1+"] web drain-blue: start", time.Minute)
		}},
		{name: "between batches", notYet: "[" + hosts[2].Addr.String() + "] deploy web: started", reached: func(t *testing.T, c *ctrlcRun) {
			c.b.waitLine(t, "["+h2+"] deploy web: done", 2*time.Minute)
		}},
	}
	for i, p := range phases {
		t.Run(p.name, func(t *testing.T) {
			// Every phase is before the last host switches: the fleet
			// stays on what setup deployed.
			const old = "v1"
			version := fmt.Sprintf("ctrlc%d-%x", i, time.Now().UnixNano()&0xffffff)
			writeCtrlCConfig(t, a, hosts, p.migrations)
			args := []string{"-v", "deploy", "--version", version}
			if !p.build {
				ctrlcVariant(t, ctx, version, p.env, p.run)
				args = append(args, "--skip-push")
			}
			slow := "none"
			var slowRes <-chan string
			if p.slow {
				slowRes = startSlowGet(ctx, "http://"+h1+"/sleep?ms=20000")
			}
			started := time.Now()
			c := &ctrlcRun{app: a, b: a.start(t, args...), version: version, hosts: hosts}
			p.reached(t, c)
			sent := time.Now()
			if err := syscall.Kill(-c.b.cmd.Process.Pid, syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			code := c.b.wait(t, 2*time.Minute)
			t.Logf("%s: Ctrl-C %v into the deploy, exit %d after %v",
				p.name, sent.Sub(started).Round(100*time.Millisecond),
				code, c.b.end.Sub(sent).Round(100*time.Millisecond))
			if slowRes != nil {
				slow = <-slowRes
			}
			t.Logf("%s: request in flight across the drain: %s", p.name, slow)
			checkCancelled(t, ctx, c, code, old, strings.ReplaceAll(p.notYet, "{v}", version))
		})
	}
}

// startCtrlCApp sets up the Ctrl-C app on three hosts of the shared fleet,
// serving v1, and removes it from them at the end.
func startCtrlCApp(t *testing.T, ctx context.Context) (*surfaceApp, []*harness.Host) {
	t.Helper()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	// A fleet of its own: the test leaves Traefik on port 80 of every host,
	// which TestStack's shared host3 needs.
	f := harness.StartHosts(t, 3)
	hosts := f.Hosts[:3]
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), fmt.Sprintf(ctrlcDockerfile, fmt.Sprintf("%x", time.Now().UnixNano())), 0o644)
	writeFile(t, filepath.Join(dir, ".kamal", "secrets"), "", 0o600)
	a := &surfaceApp{ctx: ctx, plugin: plugin, fleet: f, dir: dir, log: &outputLog{},
		env: []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik, "TMPDIR=" + t.TempDir()}}
	writeCtrlCConfig(t, a, hosts, "")
	gitCommit(t, dir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin output:\n%s", a.log.String())
		}
		a.ctx = context.Background()
		a.kamal("remove", "-y")
		for _, h := range hosts {
			h.Docker(context.Background(), "rm", "-f", "kamal-sidecar", "kamal-traefik") //nolint:errcheck // best effort on a shared host
			h.Exec(context.Background(), "rm", "-rf", "/var/lib/kamal", "/run/kamal")    //nolint:errcheck // best effort on a shared host
		}
	})
	a.kamal("setup", "--skip-push", "--version", "v1").must(t)
	return a, hosts
}

// writeCtrlCConfig writes the app's deploy.yml with the migrations block
// (config/ is not in the build context, so the git clone need not see it).
func writeCtrlCConfig(t *testing.T, a *surfaceApp, hosts []*harness.Host, migrations string) {
	t.Helper()
	writeFile(t, filepath.Join(a.dir, "config", "deploy.yml"), fmt.Sprintf(ctrlcDeployYML,
		hosts[0].Addr, hosts[1].Addr, hosts[2].Addr, a.fleet.SSHConfig, migrations), 0o644)
}

// ctrlcVariant builds kamal-e2e-app:<version> from v1 and removes it at
// the end.
func ctrlcVariant(t *testing.T, ctx context.Context, version, env, run string) {
	t.Helper()
	if run == "" {
		run = "true"
	}
	cmd := exec.CommandContext(ctx, "docker", "build", "-q", "--label", "kamal-e2e-image=1", "-t", "kamal-e2e-app:"+version, "-")
	cmd.Stdin = strings.NewReader(fmt.Sprintf(ctrlcVariantDockerfile, version, env, run))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build variant %s: %v\n%s", version, err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "kamal-e2e-app:"+version).Run() }) //nolint:errcheck // best effort
}

// migrationContainers names the migration containers on h.
func migrationContainers(t *testing.T, ctx context.Context, h *harness.Host) string {
	t.Helper()
	out, err := h.Docker(ctx, "ps", "-a", "--filter", "name=kamal-intr-migrate", "--format", "{{.Names}}")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// startSlowGet sends a GET in the background and reports its status.
func startSlowGet(ctx context.Context, url string) <-chan string {
	res := make(chan string, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			res <- err.Error()
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- err.Error()
			return
		}
		resp.Body.Close() //nolint:errcheck // only the status matters
		res <- fmt.Sprintf("%d from %s", resp.StatusCode, resp.Header.Get("X-App-Version"))
	}()
	return res
}

// checkCancelled asserts what an interrupted deploy must leave: exit 130,
// the CANCELLED line with every host serving old, the phase not yet over
// when the interrupt came, the lock free, no migration left running, and
// every host serving old.
func checkCancelled(t *testing.T, ctx context.Context, c *ctrlcRun, code int, old, notYet string) {
	t.Helper()
	out := c.b.out.String()
	if code != 130 {
		t.Errorf("exit %d, want 130:\n%s", code, out)
	}
	want := fmt.Sprintf("of kamal-intr %s to %d host(s) CANCELLED", c.version, len(c.hosts))
	cancelled := strings.Index(out, want)
	if cancelled < 0 {
		t.Fatalf("no line %q:\n%s", want, out)
	}
	if at, ok := c.b.out.first(notYet); ok {
		if got, _ := c.b.out.first("interrupt again to exit at once"); !got.Before(at) {
			t.Errorf("the phase was over (%q) when the interrupt came:\n%s", notYet, out)
		}
	}
	tail := out[cancelled:]
	for _, h := range c.hosts {
		if !servesLine(tail, h.Addr.String(), old) {
			t.Errorf("the CANCELLED summary does not say %s serves %s:\n%s", h.Addr, old, tail)
		}
	}
	if strings.Contains(out, "signal: killed") {
		t.Errorf("the output shows a killed child instead of the cancel:\n%s", out)
	}
	st := c.app.kamal("lock", "status").must(t)
	if !strings.Contains(st.out, "There is no deploy lock") {
		t.Errorf("the lock is held after Ctrl-C:\n%s", st.out)
	}
	if m := migrationContainers(t, ctx, c.hosts[0]); m != "" {
		t.Errorf("a migration container is left on the primary: %s", m)
	}
	for _, h := range c.hosts {
		servesOnly(t, ctx, c.app.fleet, h, old)
	}
}

// servesOnly asserts that every request through h's Traefik is answered
// by version. A container a deploy replaced may keep running out of
// rotation (sidecar.keep_warm); what the host serves is what counts.
func servesOnly(t *testing.T, ctx context.Context, f *harness.Fleet, h *harness.Host, version string) {
	t.Helper()
	rep, err := loadgen.Run(ctx, loadgen.Config{URL: "http://" + h.Addr.String() + "/", Count: 10, Rate: 50, Allow: []netip.Prefix{f.Subnet}})
	if err != nil {
		t.Fatalf("requests to %s: %v", h.Name, err)
	}
	for _, r := range rep.Results {
		if !r.OK() || r.Version != version {
			t.Errorf("%s answered status %d from %q (err %q), want every request served by %s", h.Name, r.Status, r.Version, r.Err, version)
			return
		}
	}
}

// servesLine reports whether summary says host serves version: a line of
// its own, or the one naming every unchanged host.
func servesLine(summary, host, version string) bool {
	for _, l := range strings.Split(summary, "\n") {
		if strings.Contains(l, "no host was changed:") && strings.Contains(l, host) {
			return true
		}
		if strings.Contains(l, host+"/web: ") && strings.HasSuffix(strings.SplitN(l, ": ", 3)[1], "serves "+version) {
			return true
		}
	}
	return false
}

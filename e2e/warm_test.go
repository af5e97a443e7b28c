package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// warmWindow is the test app's sidecar.keep_warm: short, so the test
// also sees the window end.
const warmWindow = 15 * time.Second

const warmDeployYML = `service: kamal-warm
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
      - %[2]s
proxy:
  app_port: 3000
  healthcheck:
    path: /up
env:
  clear:
    PORT: "3000"
readiness_delay: 1
deploy_timeout: 30
drain_timeout: 5
sidecar:
  keep_warm: %[3]s
ssh:
  config: %[4]s
`

// TestWarmRollback: with sidecar.keep_warm, the web container a deploy
// replaced keeps running out of rotation; a rollback inside the window
// starts nothing (a route switch, fast, 0 failed requests under load), and
// once the window ends the sidecar stops the container it replaced.
func TestWarmRollback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := harness.BuildSampleApp(ctx, "v2"); err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	f := harness.SharedFleet(t, 3)
	hosts := f.Hosts[:2]
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config", "deploy.yml"), fmt.Sprintf(warmDeployYML, hosts[0].Addr, hosts[1].Addr, warmWindow, f.SSHConfig), 0o644)
	writeFile(t, filepath.Join(dir, ".kamal", "secrets"), "", 0o600)
	log := &outputLog{}
	env := []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik}
	kamal := func(args ...string) kamalRun { return plugin.kamal(ctx, dir, env, log, args...) }
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin output:\n%s", log.String())
		}
		kamal("remove", "-y")
		for _, h := range hosts {
			h.Docker(context.Background(), "rm", "-f", "kamal-sidecar", "kamal-traefik") //nolint:errcheck // best effort on a shared host
			h.Exec(context.Background(), "rm", "-rf", "/var/lib/kamal", "/run/kamal")    //nolint:errcheck // best effort on a shared host
		}
	})
	kamal("setup", "--skip-push", "--version", "v1").must(t)
	kamal("deploy", "--skip-push", "--version", "v2").must(t)
	for _, h := range hosts {
		if st := containerState(t, ctx, h, "kamal-warm-web-v1"); st != "running" {
			t.Fatalf("%s: v1 is %s after the deploy; want it kept running out of rotation", h.Name, st)
		}
		waitVersion(t, ctx, f, "http://"+h.Addr.String()+"/", "v2")
	}

	started := map[string]string{}
	for _, h := range hosts {
		started[h.Name] = startedAt(t, ctx, h, "kamal-warm-web-v1")
	}
	load := startFleetLoad(t, ctx, f, hosts...)
	r := kamal("-v", "rollback", "v1").must(t)
	for _, h := range hosts {
		waitVersion(t, ctx, f, "http://"+h.Addr.String()+"/", "v1")
	}
	load.stop(t, "warm rollback")
	t.Logf("warm rollback of 2 hosts: %v", r.took.Round(time.Millisecond))
	for _, h := range hosts {
		if now := startedAt(t, ctx, h, "kamal-warm-web-v1"); now != started[h.Name] {
			t.Errorf("%s: v1 was started again (%s, before %s): a warm rollback starts nothing", h.Name, now, started[h.Name])
		}
	}
	// The command includes connecting to both hosts and the lock; the
	// swaps themselves are a check and a route switch each.
	if r.took > 5*time.Second {
		t.Errorf("warm rollback took %v, want a route switch (under 5 s with connect and lock)", r.took)
	}

	// v2 is warm now; the window ends and the sidecar stops it.
	rolledBack := time.Now()
	if mem, err := hosts[0].Docker(ctx, "stats", "--no-stream", "--format", "{{.MemUsage}}", "kamal-warm-web-v2"); err == nil {
		t.Logf("memory of the warm sample-app container: %s", strings.TrimSpace(mem))
	}
	for _, h := range hosts {
		if st := containerState(t, ctx, h, "kamal-warm-web-v2"); st != "running" {
			t.Fatalf("%s: v2 is %s right after the rollback; want it warm", h.Name, st)
		}
	}
	for _, h := range hosts {
		waitFor(t, warmWindow+30*time.Second, h.Name+": v2 stopped after the warm window", func() bool {
			return containerState(t, ctx, h, "kamal-warm-web-v2") == "exited"
		})
	}
	if took := time.Since(rolledBack); took < warmWindow-2*time.Second {
		t.Errorf("v2 stopped %v after the rollback, before its %v window ended", took, warmWindow)
	}
	if st := containerState(t, ctx, hosts[0], "kamal-warm-web-v1"); st != "running" {
		t.Errorf("the live v1 is %s", st)
	}
}

func startedAt(t testing.TB, ctx context.Context, h *harness.Host, name string) string {
	t.Helper()
	out, err := h.Docker(ctx, "inspect", "--format", "{{.State.StartedAt}}", name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

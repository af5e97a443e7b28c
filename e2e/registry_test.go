package e2e

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// The registry password of the registry test. It must never appear in any
// output.
const registryTestPassword = "reg-pw-7c1e5a93d2"

const registryDeployYML = `service: kamal-e2e-reg
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
      - %[2]s
registry:
  server: %[3]s
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
proxy:
  app_port: 3000
  healthcheck:
    path: /up
env:
  clear:
    PORT: "3000"
readiness_delay: 1
deploy_timeout: 25
drain_timeout: 5
ssh:
  config: %[4]s
`

// TestRegistryDeploy deploys through a real registry (distribution v3,
// htpasswd auth): the plugin builds and pushes each version once, every host
// logs in (password on stdin) and pulls, and the swap under load drops no
// request. The sidecar and Traefik images still go direct over SSH.
func TestRegistryDeploy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	traefik, err := harness.TraefikImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v2"} {
		if _, err := harness.BuildSampleApp(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 2)
	reg := harness.StartRegistry(t, f, "kamal", registryTestPassword)
	web1, web2 := f.Hosts[0], f.Hosts[1]
	repo := reg.Server + "/kamal-e2e-app"
	t.Cleanup(func() {
		harness.MustDocker(t, "image", "rm", "-f", repo+":v1", repo+":v2", repo+":latest")
	})

	app := t.TempDir()
	writeFile(t, filepath.Join(app, "config", "deploy.yml"), fmt.Sprintf(registryDeployYML, web1.Addr, web2.Addr, reg.Server, f.SSHConfig), 0o644)
	writeFile(t, filepath.Join(app, ".kamal", "secrets"), "KAMAL_REGISTRY_PASSWORD="+registryTestPassword+"\n", 0o600)
	env := []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + traefik, "DOCKER_KAMAL_SHIP_COMPRESS=0"}
	log := &outputLog{}
	kamal := func(args ...string) kamalRun { return plugin.kamal(ctx, app, env, log, args...) }
	t.Cleanup(func() {
		all := log.String()
		if strings.Contains(all, registryTestPassword) {
			t.Errorf("the registry password appeared in the plugin's output")
		}
		if t.Failed() {
			t.Logf("plugin output:\n%s", all)
		}
	})
	// The app's Dockerfile builds on a sample app version, so the plugin's
	// own build produces an image whose top layers differ per version.
	dockerfile := func(version string) {
		writeFile(t, filepath.Join(app, "Dockerfile"), "FROM kamal-e2e-app:"+version+"\n", 0o644)
	}

	if !t.Run("setup and deploy v1 through the registry", func(t *testing.T) {
		dockerfile("v1")
		r := kamal("setup", "--version", "v1").must(t)
		t.Logf("setup + deploy v1 took %v", r.took.Round(time.Millisecond))
		assertRegistryShipped(t, ctx, r, reg, f, repo+":v1")
		if !strings.Contains(r.out, "ship kamal-sidecar:") {
			t.Errorf("the sidecar image was not shipped direct:\n%s", r.out)
		}
		for _, h := range f.Hosts {
			waitVersion(t, ctx, f, "http://"+h.Addr.String()+"/", "v1")
			// The host logged in itself: its docker config holds the registry.
			if out, err := h.Exec(ctx, "cat", "/root/.docker/config.json"); err != nil || !strings.Contains(out, reg.Server) {
				t.Errorf("%s has no docker login for %s: %v %s", h.Name, reg.Server, err, out)
			}
		}
	}) {
		return
	}

	if !t.Run("deploy v2 through the registry under load", func(t *testing.T) {
		dockerfile("v2")
		before := map[string]int64{}
		for _, h := range f.Hosts {
			before[h.Name], _ = reg.PulledBytes(h.Name)
		}
		load := startFleetLoad(t, ctx, f, web1, web2)
		r := kamal("deploy", "--version", "v2")
		last := load.stop(t, "registry deploy v2")
		r.must(t)
		t.Logf("deploy v2 took %v", r.took.Round(time.Millisecond))
		for _, v := range last {
			if v != "v2" {
				t.Errorf("after deploy v2 the load last saw %q", v)
			}
		}
		assertRegistryShipped(t, ctx, r, reg, f, repo+":v2")
		for _, h := range f.Hosts {
			after, _ := reg.PulledBytes(h.Name)
			d := after - before[h.Name]
			t.Logf("%s pulled %d bytes for v2", h.Name, d)
			// v2 shares the base layer with v1: only the top layers move.
			if d <= 0 || d > 40<<20 {
				t.Errorf("%s pulled %d bytes for v2; want some, and less than the base layer", h.Name, d)
			}
			// The plugin's pull line tells the layer bytes: what went
			// through the host's tunnel, less HTTP and manifests.
			m := regexp.MustCompile(`\[` + regexp.QuoteMeta(h.Addr.String()) + `\] pull \S+: pulled 1 of 2 layers, ([0-9.]+) MiB`).FindStringSubmatch(r.out)
			if m == nil {
				t.Errorf("no pull line with 1 of 2 layers and MiB for %s:\n%s", h.Name, r.out)
				continue
			}
			if mib, _ := strconv.ParseFloat(m[1], 64); math.Abs(mib-float64(d)/(1<<20)) > 0.2 {
				t.Errorf("%s: plugin says %s MiB pulled, the tunnel carried %d bytes", h.Name, m[1], d)
			}
		}
		logs, err := reg.Logs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Each pull asks for the tag's manifest (HEAD) and then fetches it by
		// digest; the push only PUTs it.
		if n := strings.Count(logs, `"HEAD /v2/kamal-e2e-app/manifests/v2 HTTP/1.1" 200`); n < len(f.Hosts) {
			t.Errorf("registry answered %d pulls of the v2 manifest, want at least %d (one per host)", n, len(f.Hosts))
		}
	}) {
		return
	}

	t.Run("registry logout and login on the hosts", func(t *testing.T) {
		loggedIn := func(h *harness.Host) bool {
			out, _ := h.Exec(ctx, "sh", "-c", "cat /root/.docker/config.json 2>/dev/null || true")
			return strings.Contains(out, `"`+reg.Server+`"`)
		}
		kamal("registry", "logout").must(t)
		for _, h := range f.Hosts {
			if loggedIn(h) {
				t.Errorf("%s still has credentials for %s after registry logout", h.Name, reg.Server)
			}
		}
		kamal("registry", "login").must(t)
		for _, h := range f.Hosts {
			if !loggedIn(h) {
				t.Errorf("%s has no credentials for %s after registry login", h.Name, reg.Server)
			}
		}
	})

	t.Run("--ship direct skips the registry", func(t *testing.T) {
		r := kamal("redeploy", "--ship", "direct", "--skip-push", "--version", "v1").must(t)
		if strings.Contains(r.out, "pull "+repo) || strings.Contains(r.out, "push "+repo) {
			t.Errorf("--ship direct used the registry:\n%s", r.out)
		}
		if !strings.Contains(r.out, "ship "+repo+":v1") {
			t.Errorf("--ship direct did not ship over SSH:\n%s", r.out)
		}
		for _, h := range f.Hosts {
			waitVersion(t, ctx, f, "http://"+h.Addr.String()+"/", "v1")
		}
	})
}

// assertRegistryShipped checks that image was pushed once and pulled by
// every host from the registry.
func assertRegistryShipped(t *testing.T, ctx context.Context, r kamalRun, reg *harness.Registry, f *harness.Fleet, image string) {
	t.Helper()
	if n := strings.Count(r.out, "push "+image); n != 1 {
		t.Errorf("%d push lines for %s, want 1:\n%s", n, image, r.out)
	}
	repo := image[:strings.LastIndex(image, ":")]
	for _, h := range f.Hosts {
		if !strings.Contains(r.out, "["+h.Addr.String()+"] pull "+image) {
			t.Errorf("no pull line for %s:\n%s", h.Name, r.out)
		}
		// A pulled image records its registry digest; a loaded one has none.
		out, err := h.Docker(ctx, "image", "inspect", "--format", "{{json .RepoDigests}}", image)
		if err != nil {
			t.Errorf("%s lacks %s: %v", h.Name, image, err)
			continue
		}
		if !strings.Contains(out, repo+"@sha256:") {
			t.Errorf("%s's %s has RepoDigests %s: not pulled from the registry", h.Name, image, out)
		}
		if n, conns := reg.PulledBytes(h.Name); n == 0 || conns == 0 {
			t.Errorf("%s never reached the registry", h.Name)
		}
	}
}

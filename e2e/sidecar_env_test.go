package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"

	"golang.org/x/crypto/ssh"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarimage"
)

// Sidecar e2e tunables.
const (
	// sidecarTestVersion tags the sidecar image the tests build.
	sidecarTestVersion = "e2e"
	// scSecret is a secret value that must never appear in the host's
	// state dir (journal, audit log, Traefik config).
	scSecret = "e2e-secret-value-9f3c1"
	// loadRate is the constant load (requests per second) during swaps.
	loadRate = 100
	// tailRequests is how many responses of the final version the load
	// must see after a swap's end, so the report covers that state too.
	tailRequests = 50
	// sidecarAppRepo is the repository the sample app builds are pinned
	// under for these tests.
	sidecarAppRepo = "kamal-e2e-sidecar-app"
)

// sidecarEnv is one harness host running the sidecar exactly as
// production does, with Traefik booted through the sidecar's API.
type sidecarEnv struct {
	h   *harness.Host
	f   *harness.Fleet
	ssh *ssh.Client
	api *sidecarclient.Client
	mon *http.Client
	// apps maps a sample app version to its image reference and ID.
	apps map[string]appImage
	// traefik is the Traefik image reference.
	traefik string
}

type appImage struct{ ref, id string }

// newSidecarEnv starts a host, builds and loads the images, starts the
// sidecar container with contract.RunArgs and boots Traefik.
func newSidecarEnv(t *testing.T, ctx context.Context, versions ...string) *sidecarEnv {
	t.Helper()
	f := harness.StartHosts(t, 1)
	env := &sidecarEnv{f: f, h: f.Hosts[0], apps: map[string]appImage{}}

	// Build everything in parallel: the sidecar image, Traefik, app versions.
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		errs    []error
		traefik string
	)
	run := func(fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	run(func() error { return buildSidecarImage(ctx, t.TempDir()) })
	run(func() (err error) { traefik, err = harness.TraefikImage(ctx); return err })
	for _, v := range versions {
		run(func() error {
			ref, err := harness.BuildSampleApp(ctx, v)
			if err != nil {
				return err
			}
			id, err := harness.ImageID(ctx, ref)
			if err != nil {
				return err
			}
			// Pin the build under a tag of our own: other test runs on this
			// machine may rebuild the harness's tag meanwhile.
			own := sidecarAppRepo + ":" + v
			if out, err := exec.CommandContext(ctx, "docker", "tag", id, own).CombinedOutput(); err != nil {
				return fmt.Errorf("tag %s: %w: %s", own, err, out)
			}
			t.Cleanup(func() { _ = exec.Command("docker", "rmi", own).Run() }) // untag only; layers stay shared
			mu.Lock()
			env.apps[v] = appImage{ref: own, id: id}
			mu.Unlock()
			return nil
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Harness setup path for the sidecar and Traefik images; app images go
	// through the sidecar's own image intake (see shipApp).
	for _, ref := range []string{contract.ImageRef(sidecarTestVersion), traefik} {
		if err := env.h.LoadImage(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.h.Exec(ctx, "sh", "-c", "docker network create kamal >/dev/null && mkdir -p -m 0700 /run/kamal /var/lib/kamal"); err != nil {
		t.Fatal(err)
	}
	args := contract.RunArgs(sidecarTestVersion, contract.DefaultNetwork, contract.DefaultMonitorAddr)
	if _, err := env.h.Docker(ctx, args...); err != nil {
		t.Fatal(err)
	}
	c, err := env.h.SSH(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	env.ssh = c
	env.api = sidecarclient.NewClient(func(ctx context.Context) (net.Conn, error) {
		return c.DialContext(ctx, "unix", contract.SocketPath)
	})
	t.Cleanup(env.api.Close)
	env.mon = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.DialContext(ctx, "tcp", contract.DefaultMonitorAddr)
		},
	}}
	env.waitSidecar(t, ctx)

	env.traefik = traefik
	st, err := env.api.BootTraefik(ctx, contract.TraefikRequest{Image: traefik, HTTPPort: 80, HTTPSPort: -1, Who: "e2e"})
	if err != nil {
		t.Fatalf("boot traefik: %v\nsidecar logs:\n%s", err, env.logs(ctx, "kamal-sidecar"))
	}
	if !st.Running {
		t.Fatalf("traefik not running after boot: %+v", st)
	}
	return env
}

// buildSidecarImage compiles the sidecar statically and builds its image.
func buildSidecarImage(ctx context.Context, dir string) error {
	bin := filepath.Join(dir, "kamal-sidecar")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/dockerkamal/docker-kamal/pkg/buildinfo.Version="+sidecarTestVersion, "-o", bin, "../sidecar")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compile sidecar: %w: %s", err, out)
	}
	return sidecarimage.Build(ctx, nil, bin, contract.ImageRef(sidecarTestVersion))
}

// waitSidecar polls the API until the sidecar answers.
func (env *sidecarEnv) waitSidecar(t *testing.T, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = env.api.Health(cctx)
		cancel()
		if last == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("sidecar did not answer within 30s: %v\nlogs:\n%s", last, env.logs(ctx, "kamal-sidecar"))
}

// logs returns a container's last log lines on the host (for failures).
func (env *sidecarEnv) logs(ctx context.Context, name string) string {
	out, err := env.h.Docker(ctx, "logs", "--tail", "40", name)
	if err != nil {
		return err.Error()
	}
	return out
}

// shipApp sends an app image through the sidecar's image intake.
func (env *sidecarEnv) shipApp(t *testing.T, ctx context.Context, version string) {
	t.Helper()
	img := env.apps[version]
	cmd := exec.CommandContext(ctx, "docker", "save", img.ref)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	res, err := env.api.LoadImage(ctx, out, img.id)
	_, _ = io.Copy(io.Discard, out)
	if werr := cmd.Wait(); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		t.Fatalf("ship %s: %v", img.ref, err)
	}
	if !res.Verified {
		t.Fatalf("ship %s: not verified: %+v", img.ref, res)
	}
}

// appSpec is the wire spec of the sample app at version.
func (env *sidecarEnv) appSpec(service, dest, version, image string, env2 map[string]string) *contract.Deploy {
	img := env.apps[image]
	e := map[string]string{"SHUTDOWN_TIMEOUT_MS": "20000"}
	for k, v := range env2 {
		e[k] = v
	}
	d := &contract.Deploy{
		APIVersion: contract.APIVersion, Service: service, Destination: dest, Role: "web", Version: version,
		Image: img.ref, ImageID: img.id, Env: e, SecretEnv: map[string]string{"SECRET_KEY_BASE": scSecret},
		Healthcheck: contract.Healthcheck{Kind: contract.HealthHTTP, Path: "/up", Port: 3000,
			Interval: contract.Duration(100 * time.Millisecond), Timeout: contract.Duration(2 * time.Second)},
		Proxy:         &contract.Proxy{Hosts: []string{hostFor(service, dest)}, AppPort: 3000},
		DeployTimeout: contract.Duration(30 * time.Second), DrainTimeout: contract.Duration(10 * time.Second),
		StopTimeout: contract.Duration(25 * time.Second), RetainContainers: 3,
	}
	// What the plugin does before sending a spec.
	if err := routes.Attach(d); err != nil {
		panic(err)
	}
	return d
}

func hostFor(service, dest string) string {
	if dest == "" {
		return service + ".test"
	}
	return service + "-" + dest + ".test"
}

// load starts constant load through Traefik for service/dest.
func (env *sidecarEnv) load(t *testing.T, ctx context.Context, service, dest string) *loadgen.Generator {
	t.Helper()
	g, err := loadgen.Start(ctx, loadgen.Config{
		URL: "http://" + env.h.Addr.String() + ":80/", Host: hostFor(service, dest),
		Rate: loadRate, Duration: 5 * time.Minute, Allow: []netip.Prefix{env.f.Subnet},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop() })
	return g
}

// stopLoad stops g and asserts zero failures and the version sequence.
func stopLoad(t *testing.T, g *loadgen.Generator, versions ...string) *loadgen.Report {
	t.Helper()
	// Keep the load on the final state until it has served enough
	// requests, so the report shows the last version under load too.
	if len(versions) > 0 {
		last := versions[len(versions)-1]
		base := g.Served(last)
		waitUntil(t, 10*time.Second, func() bool { return g.Served(last) >= base+tailRequests },
			func() string {
				return fmt.Sprintf("load saw %d responses of %s after the swap, want %d", g.Served(last)-base, last, tailRequests)
			})
	}
	rep := g.Stop()
	s := rep.Summary
	t.Logf("load: %s", strings.ReplaceAll(s.String(), "\n", "; "))
	if s.Total < 50 || s.Errors != 0 || s.Non2xx != 0 {
		t.Errorf("load: %d requests, %d transport errors, %d non-2xx (first errors %v); want >= 50 and 0 failures",
			s.Total, s.Errors, s.Non2xx, s.FirstErrors)
	}
	var seen []string
	for _, v := range s.Versions {
		seen = append(seen, v.Version)
	}
	if strings.Join(seen, ",") != strings.Join(versions, ",") {
		t.Errorf("versions served = %v, want %v", seen, versions)
	}
	return rep
}

// serving polls Traefik until it answers with version for service/dest.
func (env *sidecarEnv) serving(t *testing.T, ctx context.Context, service, dest, version string) {
	t.Helper()
	c := &http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+env.h.Addr.String()+":80/", nil)
		req.Host = hostFor(service, dest)
		resp, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && resp.Header.Get("X-App-Version") == version {
				return
			}
			last = fmt.Sprintf("%s version %q", resp.Status, resp.Header.Get("X-App-Version"))
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond) // poll interval, bounded by the deadline
	}
	t.Fatalf("traefik did not serve %s %s within 30s (last: %s)", hostFor(service, dest), version, last)
}

// metrics reads /metrics from the monitoring listener: series -> value.
func (env *sidecarEnv) metrics(t *testing.T, ctx context.Context) map[string]float64 {
	t.Helper()
	body := env.monGet(t, ctx, contract.PathMetrics)
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

func (env *sidecarEnv) monGet(t *testing.T, ctx context.Context, path string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+contract.DefaultMonitorAddr+path, nil)
	resp, err := env.mon.Do(req)
	if err != nil {
		t.Fatalf("GET %s on the monitoring listener: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return string(b)
}

// wantMetric asserts one series' value.
func wantMetric(t *testing.T, m map[string]float64, series string, want float64) {
	t.Helper()
	if got, ok := m[series]; !ok || got != want {
		t.Errorf("metric %s = %v (present %v), want %v", series, got, ok, want)
	}
}

// roleStatus returns the role's entry of the monitoring listener's
// /v1/status.
func (env *sidecarEnv) roleStatus(t *testing.T, ctx context.Context, service, dest string) contract.RoleStatus {
	t.Helper()
	st, _ := env.roleStatus2(t, ctx, service, dest)
	return st
}

// roleStatus2 is roleStatus and whether the sidecar has reconciled.
func (env *sidecarEnv) roleStatus2(t *testing.T, ctx context.Context, service, dest string) (contract.RoleStatus, bool) {
	t.Helper()
	var st contract.Status
	if err := jsonUnmarshal(env.monGet(t, ctx, contract.PathStatus), &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Roles {
		if r.Service == service && r.Destination == dest && r.Role.Role == "web" {
			return r, st.Ready
		}
	}
	t.Fatalf("status has no %s/web@%s: %+v", service, dest, st.Roles)
	return contract.RoleStatus{}, false
}

// containerID is a container's ID on the host.
func (env *sidecarEnv) containerID(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	out, err := env.h.Docker(ctx, "inspect", "--format", "{{.Id}}", name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// containerState is docker's state of a container on the host.
func (env *sidecarEnv) containerState(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	out, err := env.h.Docker(ctx, "inspect", "--format", "{{.State.Status}}", name)
	if err != nil {
		return "missing"
	}
	return strings.TrimSpace(out)
}

func jsonUnmarshal(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode %q: %w", s, err)
	}
	return nil
}

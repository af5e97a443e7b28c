package swap_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/docker/dockertest"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// directRouter stands in for Traefik in the engine integration tests: it
// keeps the live server set and confirms a cutover by fetching "/" from
// every server (full Traefik is exercised end to end in e2e/).
type directRouter struct {
	mu   sync.Mutex
	live map[string][]swap.Server
}

func key(d *contract.Deploy) string { return d.Service + "/" + d.Destination + "/" + d.Role }

func (r *directRouter) Route(ctx context.Context, d *contract.Deploy, s []swap.Server) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live == nil {
		r.live = map[string][]swap.Server{}
	}
	r.live[key(d)] = s
	return nil
}

func (r *directRouter) Confirm(ctx context.Context, d *contract.Deploy, s []swap.Server) error {
	for _, srv := range s {
		if _, err := get(ctx, "http://"+srv.Address+"/"); err != nil {
			return err
		}
	}
	return nil
}

func (r *directRouter) Drain(context.Context, *contract.Deploy, []swap.Server) error { return nil }

func (r *directRouter) Unroute(ctx context.Context, d *contract.Deploy) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.live, key(d))
	return nil
}

// serve fetches "/" through the live server of d's role, like a proxy would.
func (r *directRouter) serve(t testing.TB, d *contract.Deploy) string {
	t.Helper()
	r.mu.Lock()
	s := r.live[key(d)]
	r.mu.Unlock()
	if len(s) != 1 {
		t.Fatalf("live servers of %s: %v", key(d), s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := get(ctx, "http://"+s[0].Address+"/")
	if err != nil {
		t.Fatalf("serve %s via %s: %v", key(d), s[0].Address, err)
	}
	return strings.TrimSpace(body)
}

func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}

type fixture struct {
	client  *docker.Client
	image   docker.Image
	network string
	service string
	router  *directRouter
	engine  *swap.Engine
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := dockertest.Client(t)
	ref := dockertest.AppImage(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	img, err := c.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{client: c, image: img, network: dockertest.Network(t, c), service: "kt" + dockertest.Unique(t), router: &directRouter{}}
	f.engine = &swap.Engine{Docker: c, Router: f.router, Logger: slog.New(slog.DiscardHandler), ConfirmTimeout: 5 * time.Second}
	return f
}

func (f *fixture) deploy(version, destination string, env map[string]string) *contract.Deploy {
	e := map[string]string{"VERSION": version}
	for k, v := range env {
		e[k] = v
	}
	return &contract.Deploy{
		APIVersion: contract.APIVersion, Service: f.service, Destination: destination, Role: "web",
		Version: version, Image: f.image.RepoTags[0], ImageID: f.image.ID, Env: e,
		SecretEnv: map[string]string{"SECRET_KEY_BASE": "s3cr3t-value"},
		Labels:    map[string]string{dockertest.Label: f.network},
		Network:   f.network,
		Healthcheck: contract.Healthcheck{Kind: contract.HealthHTTP, Path: "/up", Port: 8080,
			Interval: contract.Duration(50 * time.Millisecond), Timeout: contract.Duration(time.Second)},
		Proxy:         &contract.Proxy{AppPort: 8080, Hosts: []string{"app.test"}},
		DeployTimeout: contract.Duration(5 * time.Second),
		StopTimeout:   contract.Duration(5 * time.Second),
		DrainTimeout:  contract.Duration(time.Second),
	}
}

func (f *fixture) state(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := f.client.Inspect(ctx, name)
	if err != nil {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return c.State
}

// TestIntegrationDeployFailRollback runs, on the real engine and in order:
// two deploys, two that fail (unhealthy, crashing), a rollback and a
// redeploy of the live version.
func TestIntegrationDeployFailRollback(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f.deployV1ThenV2(t, ctx)
	f.failV3AndV4(t, ctx)
	f.rollBackToV1(t, ctx)
	f.redeployV1(t, ctx)
}

func (f *fixture) name(version string) string {
	return contract.ContainerName(f.service, "web", "", version)
}

func (f *fixture) deployV1ThenV2(t *testing.T, ctx context.Context) {
	v1 := f.deploy("v1", "", nil)
	if _, err := f.engine.Deploy(ctx, v1, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.router.serve(t, v1); got != "v1" {
		t.Fatalf("serving %q after v1", got)
	}
	v2 := f.deploy("v2", "", nil)
	res, err := f.engine.Deploy(ctx, v2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.router.serve(t, v2); got != "v2" {
		t.Fatalf("serving %q after v2", got)
	}
	if f.state(t, f.name("v1")) != docker.StateExited || res.Previous != f.name("v1") {
		t.Fatalf("v1 is %s, result %+v", f.state(t, f.name("v1")), res)
	}
	t.Logf("v2: healthy in %s, cutover %s, total %s", res.Healthy, res.Cutover, res.Total)
}

func (f *fixture) failV3AndV4(t *testing.T, ctx context.Context) {
	// v3 never gets healthy: v2 keeps serving, the error shows v3's logs.
	v3 := f.deploy("v3", "", map[string]string{"UNHEALTHY": "1"})
	v3.DeployTimeout = contract.Duration(time.Second)
	_, err := f.engine.Deploy(ctx, v3, nil)
	var se *swap.StepError
	if !errors.As(err, &se) || se.Step != swap.StepWaitHealthy {
		t.Fatalf("v3: err = %v", err)
	}
	for _, want := range []string{"not ready: v3", "testapp v3 booting"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("v3 error lacks %q: %v", want, err)
		}
	}
	if f.state(t, f.name("v3")) != docker.StateExited || f.state(t, f.name("v2")) != docker.StateRunning {
		t.Fatalf("after v3: v3 %s v2 %s", f.state(t, f.name("v3")), f.state(t, f.name("v2")))
	}
	if got := f.router.serve(t, f.deploy("v2", "", nil)); got != "v2" {
		t.Fatalf("serving %q after failed v3", got)
	}

	// v4 crashes at start: the wait stops at once, not at the deadline.
	v4 := f.deploy("v4", "", map[string]string{"CRASH": "1"})
	v4.DeployTimeout = contract.Duration(time.Minute)
	start := time.Now()
	_, err = f.engine.Deploy(ctx, v4, nil)
	if err == nil || !strings.Contains(err.Error(), "exit code 3") || !strings.Contains(err.Error(), "crashing on purpose") {
		t.Fatalf("v4: err = %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("crash detected after %s", d)
	}
}

// rollBackToV1 reuses the retained container.
func (f *fixture) rollBackToV1(t *testing.T, ctx context.Context) {
	start := time.Now()
	res, err := f.engine.Rollback(ctx, contract.Role{Service: f.service, Role: "web"}, "v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if got := f.router.serve(t, f.deploy("v1", "", nil)); got != "v1" {
		t.Fatalf("serving %q after rollback", got)
	}
	if f.state(t, f.name("v2")) != docker.StateExited {
		t.Fatalf("v2 still %s", f.state(t, f.name("v2")))
	}
	if took > 10*time.Second {
		t.Errorf("rollback took %s", took)
	}
	t.Logf("rollback to v1 in %s (healthy %s, cutover %s)", took, res.Healthy, res.Cutover)
}

// redeployV1: redeploying the live version renames it aside and keeps
// serving.
func (f *fixture) redeployV1(t *testing.T, ctx context.Context) {
	v1 := f.deploy("v1", "", nil)
	res, err := f.engine.Deploy(ctx, v1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.router.serve(t, v1); got != "v1" || res.Plan.Names()[1] != swap.StepRenameAside {
		t.Fatalf("redeploy v1: serving %q plan %v", got, res.Plan.Names())
	}
	vs, err := f.engine.Versions(ctx, contract.Role{Service: f.service, Role: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 5 || !vs[0].Live || vs[0].Container != f.name("v1") || vs[1].Live || !strings.HasPrefix(vs[1].Container, f.name("v1")+"_replaced_") {
		t.Errorf("versions %+v", vs)
	}
	// The secret reached the container but not its spec label.
	c, err := f.client.Inspect(ctx, f.name("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Labels[swap.LabelSpec], "s3cr3t-value") || !strings.Contains(c.Labels[swap.LabelSpec], "SECRET_KEY_BASE") {
		t.Errorf("spec label %s", c.Labels[swap.LabelSpec])
	}
}

func TestIntegrationRetentionAcrossDestinations(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for i := 1; i <= 4; i++ {
		for _, dest := range []string{"a", "b"} {
			d := f.deploy(fmt.Sprintf("v%d", i), dest, nil)
			d.RetainContainers = 2
			if dest == "b" {
				d.RetainContainers = 5
			}
			if _, err := f.engine.Deploy(ctx, d, nil); err != nil {
				t.Fatalf("deploy %s to %s: %v", d.Version, dest, err)
			}
		}
	}
	versions := func(dest string) []string {
		vs, err := f.engine.Versions(ctx, contract.Role{Service: f.service, Destination: dest, Role: "web"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.Version+"/"+v.State)
		}
		return out
	}
	if got, want := strings.Join(versions("a"), " "), "v4/running v3/exited v2/exited"; got != want {
		t.Errorf("destination a: %s, want %s", got, want)
	}
	if got, want := strings.Join(versions("b"), " "), "v4/running v3/exited v2/exited v1/exited"; got != want {
		t.Errorf("destination b: %s, want %s", got, want)
	}
}

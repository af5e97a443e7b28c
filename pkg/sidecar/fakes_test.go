package sidecar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
)

// fakeHost is an in-memory host: containers with states, a Traefik route
// per role, and a scripted swapper. It records calls in order.
type fakeHost struct {
	mu        sync.Mutex
	calls     []string
	state     map[string]fakeContainer
	unhealthy map[string]bool
	// refusing counts the probes a running container still refuses: an
	// app its restart policy started a moment ago (after a dockerd
	// restart) that does not listen yet.
	refusing  map[string]int
	routes    map[string]string // service/role@dest -> container
	failRoute error
	onRoute   func()   // called (unlocked) before each Route
	images    []string // image IDs on the host
	loadOut   string
	loadErr   error
	loaded    []byte

	// deploy scripts the swapper; nil means "succeed through every step".
	deploy func(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error)
}

// fakeContainer is a container of the fake host.
type fakeContainer struct {
	running bool
}

func newFakeHost() *fakeHost {
	return &fakeHost{state: map[string]fakeContainer{}, unhealthy: map[string]bool{}, refusing: map[string]int{}, routes: map[string]string{}}
}

func (h *fakeHost) record(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, fmt.Sprintf(format, args...))
}

func (h *fakeHost) Calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

func (h *fakeHost) set(name string, running bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state[name] = fakeContainer{running: running}
}

func (h *fakeHost) running(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state[name].running
}

func (h *fakeHost) route(r contract.Role) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.routes[r.String()]
}

// Containers. A container carries the spec label of its version, as the
// swap engine starts them (the version is the name's last part).
func (h *fakeHost) Inspect(_ context.Context, name string) (docker.Container, error) {
	h.mu.Lock()
	st, ok := h.state[name]
	h.mu.Unlock()
	if !ok {
		return docker.Container{}, fmt.Errorf("inspect %s: %w", name, docker.ErrNotFound)
	}
	label, err := json.Marshal(testSpec(name[strings.LastIndex(name, "-")+1:]).Redacted())
	if err != nil {
		return docker.Container{}, err
	}
	c := docker.Container{ID: name, Name: name, State: docker.StateExited, Labels: map[string]string{swap.LabelSpec: string(label)},
		IPs: map[string]string{contract.DefaultNetwork: "10.0.0.1"}}
	if st.running {
		c.State = docker.StateRunning
	}
	return c, nil
}

func (h *fakeHost) Start(_ context.Context, name string) error {
	h.record("start %s", name)
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.state[name]
	if !ok {
		return fmt.Errorf("start %s: %w", name, docker.ErrNotFound)
	}
	st.running = true
	h.state[name] = st
	return nil
}

func (h *fakeHost) Stop(_ context.Context, name string, _ time.Duration) error {
	h.record("stop %s", name)
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state[name]
	st.running = false
	h.state[name] = st
	return nil
}

// fakeReadyAttempts bounds the fake Ready's probes, as the deploy timeout
// bounds the real one's.
const fakeReadyAttempts = 20

// Prober. Ready probes until a check passes, as HealthProber does.
func (h *fakeHost) Ready(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	var err error
	for range fakeReadyAttempts {
		if err = h.Check(ctx, d, c); err == nil {
			return nil
		}
	}
	return err
}

func (h *fakeHost) Check(_ context.Context, _ *contract.Deploy, c docker.Container) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.state[c.Name].running || h.unhealthy[c.Name] {
		return fmt.Errorf("%s: connection refused", c.Name)
	}
	if h.refusing[c.Name] > 0 {
		h.refusing[c.Name]--
		return fmt.Errorf("%s: connection refused (starting)", c.Name)
	}
	return nil
}

// answering reports whether name would pass a check now (without counting
// a probe).
func (h *fakeHost) answering(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state[name].running && !h.unhealthy[name] && h.refusing[name] == 0
}

// Router: the role's route is the first server's container.
func (h *fakeHost) Route(_ context.Context, d *contract.Deploy, servers []swap.Server) error {
	name := servers[0].Container
	if !h.answering(name) {
		// Traefik would answer 502 until it does.
		h.record("route %s (not answering)", name)
	}
	h.record("route %s", name)
	if h.onRoute != nil {
		h.onRoute()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failRoute != nil {
		return h.failRoute
	}
	h.routes[roleOf(d).String()] = name
	return nil
}

func (h *fakeHost) Confirm(context.Context, *contract.Deploy, []swap.Server) error { return nil }

func (h *fakeHost) Drain(_ context.Context, _ *contract.Deploy, old []swap.Server) error {
	h.record("drain %s", old[0].Container)
	return nil
}

func (h *fakeHost) Unroute(_ context.Context, d *contract.Deploy) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.routes, roleOf(d).String())
	return nil
}

// Swaps: the default script is a successful swap that starts green, routes
// it and stops blue, emitting the step events a real swap emits.
func (h *fakeHost) Deploy(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error) {
	if h.deploy != nil {
		return h.deploy(ctx, d, emit)
	}
	return h.swap(ctx, d, emit)
}

func (h *fakeHost) swap(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error) {
	green := d.ContainerName()
	blue := h.route(roleOf(d))
	steps := []string{swap.StepStartGreen, swap.StepWaitHealthy, swap.StepCutover, swap.StepDrainBlue, swap.StepStopBlue, swap.StepPrune}
	for _, step := range steps {
		emit(contract.Event{Step: step, Status: contract.EventStart})
		switch step {
		case swap.StepStartGreen:
			h.set(green, true)
		case swap.StepCutover:
			if err := h.Route(ctx, d, []swap.Server{{Container: green}}); err != nil {
				return nil, err
			}
		case swap.StepStopBlue:
			if blue != "" {
				if err := h.Stop(ctx, blue, 0); err != nil {
					return nil, err
				}
			}
		}
		emit(contract.Event{Step: step, Status: contract.EventDone, Elapsed: contract.Duration(time.Millisecond)})
	}
	return &swap.Result{Container: green}, nil
}

func (h *fakeHost) Rollback(ctx context.Context, role contract.Role, version string, emit func(contract.Event)) (*swap.Result, error) {
	d := testSpec(version)
	d.Service, d.Role, d.Destination = role.Service, role.Role, role.Destination
	h.mu.Lock()
	_, ok := h.state[d.ContainerName()]
	h.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("rollback %s to %s: %w", role, version, swap.ErrNotRetained)
	}
	return h.swap(ctx, d, emit)
}

// Prune records the call: "prune <role> <version of d> kept=<kept>".
func (h *fakeHost) Prune(_ context.Context, d *contract.Deploy, kept string) ([]string, error) {
	h.record("prune %s %s kept=%s", d.Role, d.Version, kept)
	return nil, nil
}

// PrepareAssets records the call; the fake host has no asset directories.
func (h *fakeHost) PrepareAssets(_ context.Context, req contract.AssetsRequest) (*contract.AssetsResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "assets "+req.Role.Role+" "+req.Version)
	return &contract.AssetsResponse{Dir: "/assets/" + req.Version}, nil
}

func (h *fakeHost) Versions(_ context.Context, r contract.Role) ([]contract.Version, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []contract.Version
	for _, v := range []string{"v3", "v2", "v1"} {
		name := contract.ContainerName(r.Service, r.Role, r.Destination, v)
		if st, ok := h.state[name]; ok {
			state := docker.StateExited
			if st.running {
				state = docker.StateRunning
			}
			out = append(out, contract.Version{Version: v, Container: name, State: state, Live: st.running})
		}
	}
	return out, nil
}

// Images.
func (h *fakeHost) ImageLoad(_ context.Context, r io.Reader) (string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.loaded = data
	h.mu.Unlock()
	return h.loadOut, h.loadErr
}

func (h *fakeHost) ImageInspect(_ context.Context, ref string) (docker.Image, error) {
	if slices.Contains(h.images, ref) {
		return docker.Image{ID: ref}, nil
	}
	return docker.Image{}, fmt.Errorf("inspect image %s: %w", ref, docker.ErrNotFound)
}

// TraefikBooter.
func (h *fakeHost) Boot(_ context.Context, req contract.TraefikRequest, reboot bool) (*contract.TraefikStatus, error) {
	h.record("boot traefik reboot=%v", reboot)
	return &contract.TraefikStatus{Container: "kamal-traefik", Image: req.Image, Running: true}, nil
}

func (h *fakeHost) deps() Deps {
	return Deps{Swaps: h, Containers: h, Prober: h, Router: h, Images: h, Traefik: h}
}

// testSpec is a valid wire spec of app/web at version.
func testSpec(version string) *contract.Deploy {
	d := &contract.Deploy{
		APIVersion: contract.APIVersion, Service: "app", Role: "web", Version: version,
		Image: "app:" + version, Healthcheck: contract.Healthcheck{Kind: contract.HealthHTTP},
		Proxy: &contract.Proxy{Hosts: []string{"app.test"}}, SecretEnv: map[string]string{"DB_PASSWORD": "hunter2"},
	}
	d.ApplyDefaults()
	if err := routes.Attach(d); err != nil {
		panic(err)
	}
	return d
}

var webRole = contract.Role{Service: "app", Role: "web"}

// testServer returns a server over h with its state in a temp dir.
func testServer(t testing.TB, h *fakeHost) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	s := NewServer(context.Background(), ServerConfig{StateDir: dir, Version: "test", Logger: slog.New(slog.DiscardHandler)}, h.deps())
	s.markReady() // nothing to reconcile
	return s, dir
}

// serveUnix serves handler on a unix socket in a temp dir and returns a
// client for it.
func serveUnix(t testing.TB, handler http.Handler) *sidecarclient.Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	c := sidecarclient.NewClient(sidecarclient.UnixDialer(sock))
	t.Cleanup(func() {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("shutdown: %v", err)
		}
	})
	return c
}

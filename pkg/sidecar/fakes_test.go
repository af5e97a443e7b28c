package sidecar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
)

// fakeHost is an in-memory host: containers with states, a Traefik route
// per role, and a scripted swapper. It records calls in order.
type fakeHost struct {
	mu        sync.Mutex
	calls     []string
	state     map[string]ContainerState
	unhealthy map[string]bool
	routes    map[string]string // service/role@dest -> container
	failRoute error
	onRoute   func() // called (unlocked) before each Route
	images    []contract.Image
	loadOut   string
	loadErr   error
	loaded    []byte

	// deploy scripts the swapper; nil means "succeed through every step".
	deploy func(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*contract.Result, error)
}

func newFakeHost() *fakeHost {
	return &fakeHost{state: map[string]ContainerState{}, unhealthy: map[string]bool{}, routes: map[string]string{}}
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
	h.state[name] = ContainerState{Exists: true, Running: running}
}

func (h *fakeHost) route(r contract.Role) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.routes[r.String()]
}

// Containers.
func (h *fakeHost) State(_ context.Context, name string) (ContainerState, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state[name], nil
}

func (h *fakeHost) Start(_ context.Context, name string) error {
	h.record("start %s", name)
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.state[name]
	if !ok {
		return fmt.Errorf("no such container %s", name)
	}
	st.Running = true
	h.state[name] = st
	return nil
}

func (h *fakeHost) Stop(_ context.Context, name string, _ time.Duration) error {
	h.record("stop %s", name)
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state[name]
	st.Running = false
	h.state[name] = st
	return nil
}

func (h *fakeHost) Spec(_ context.Context, name string) (*contract.Deploy, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.state[name].Exists {
		return nil, fmt.Errorf("no such container %s", name)
	}
	v := name[strings.LastIndex(name, "-")+1:]
	return testSpec(v).Redacted(), nil
}

// Prober.
func (h *fakeHost) WaitHealthy(ctx context.Context, d *contract.Deploy, name string) error {
	return h.Check(ctx, d, name)
}

func (h *fakeHost) Check(_ context.Context, _ *contract.Deploy, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.state[name].Running || h.unhealthy[name] {
		return fmt.Errorf("%s: connection refused", name)
	}
	return nil
}

// Router.
func (h *fakeHost) Route(_ context.Context, d *contract.Deploy, name string) error {
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

// Swapper: the default script is a successful swap that starts green, routes
// it and stops blue, emitting the step events a real swap emits.
func (h *fakeHost) Deploy(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*contract.Result, error) {
	if h.deploy != nil {
		return h.deploy(ctx, d, emit)
	}
	return h.swap(ctx, d, emit)
}

func (h *fakeHost) swap(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*contract.Result, error) {
	green := d.ContainerName()
	blue := h.route(roleOf(d))
	for _, step := range []string{StepStartGreen, StepWaitHealthy, StepCutover, StepDrain, StepStopBlue, StepRetain} {
		emit(contract.Event{Step: step, Status: contract.EventStart})
		switch step {
		case StepStartGreen:
			h.set(green, true)
		case StepCutover:
			if err := h.Route(ctx, d, green); err != nil {
				return nil, err
			}
		case StepStopBlue:
			if blue != "" {
				_ = h.Stop(ctx, blue, 0)
			}
		}
		emit(contract.Event{Step: step, Status: contract.EventDone, Elapsed: contract.Duration(time.Millisecond)})
	}
	return &contract.Result{Container: green}, nil
}

func (h *fakeHost) Rollback(ctx context.Context, req contract.RollbackRequest, emit func(contract.Event)) (*contract.Result, error) {
	d := testSpec(req.Version)
	d.Service, d.Role, d.Destination = req.Service, req.Role.Role, req.Destination
	if !h.state[d.ContainerName()].Exists {
		return nil, &contract.Error{Code: contract.CodeNotFound, Message: "no retained container " + d.ContainerName()}
	}
	return h.swap(ctx, d, emit)
}

func (h *fakeHost) Versions(_ context.Context, r contract.Role) ([]contract.Version, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []contract.Version
	for _, v := range []string{"v3", "v2", "v1"} {
		name := contract.ContainerName(r.Service, r.Role, r.Destination, v)
		if st, ok := h.state[name]; ok {
			state := "exited"
			if st.Running {
				state = "running"
			}
			out = append(out, contract.Version{Version: v, Container: name, State: state})
		}
	}
	return out, nil
}

// Images.
func (h *fakeHost) Inventory(context.Context) ([]contract.Image, error) { return h.images, nil }

func (h *fakeHost) Load(_ context.Context, r io.Reader) (string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.loaded = data
	h.mu.Unlock()
	return h.loadOut, h.loadErr
}

func (h *fakeHost) Has(_ context.Context, id string) (bool, error) {
	for _, img := range h.images {
		if img.ID == id {
			return true, nil
		}
	}
	return false, nil
}

// Proxy.
func (h *fakeHost) Boot(_ context.Context, req contract.TraefikRequest, reboot bool) (*contract.TraefikStatus, error) {
	h.record("boot traefik reboot=%v", reboot)
	return &contract.TraefikStatus{Container: "kamal-traefik", Image: req.Image, Running: true}, nil
}

func (h *fakeHost) deps() Deps {
	return Deps{Swapper: h, Containers: h, Prober: h, Router: h, Images: h, Proxy: h}
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

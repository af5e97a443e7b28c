package swap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// fakeDocker is an in-memory engine that records calls ("Op name") and fails
// a call when fail has "Op:name" or "Op".
type fakeDocker struct {
	mu         sync.Mutex
	containers map[string]*docker.Container
	specs      map[string]docker.ContainerSpec
	images     map[string]docker.Image
	logs       map[string]string
	calls      []string
	fail       map[string]error
	seq        int
	clock      time.Time
}

func newFakeDocker() *fakeDocker {
	return &fakeDocker{
		containers: map[string]*docker.Container{},
		specs:      map[string]docker.ContainerSpec{},
		images:     map[string]docker.Image{"app:v1": {ID: "sha256:v1"}, "app:v2": {ID: "sha256:v2"}},
		logs:       map[string]string{},
		fail:       map[string]error{},
		clock:      time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func (f *fakeDocker) tick() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

// call records op on name and returns the injected failure, if any.
func (f *fakeDocker) call(op, name string) error {
	f.calls = append(f.calls, strings.TrimSpace(op+" "+name))
	if err, ok := f.fail[op+":"+name]; ok {
		return err
	}
	return f.fail[op]
}

// add puts a container of the role in the given state.
func (f *fakeDocker) add(d *contract.Deploy, name, state string) *docker.Container {
	f.mu.Lock()
	defer f.mu.Unlock()
	label, err := encodeSpec(d)
	if err != nil {
		panic(err)
	}
	f.seq++
	c := &docker.Container{
		ID: fmt.Sprintf("id%d", f.seq), Name: name, Image: d.Image, State: state,
		Labels: map[string]string{
			contract.LabelService: d.Service, contract.LabelRole: d.Role, contract.LabelDestination: d.Destination,
			contract.LabelVersion: d.Version, LabelSpec: label,
		},
		Created: f.tick(), IPs: map[string]string{"kamal": fmt.Sprintf("10.0.0.%d", f.seq)},
	}
	if state == docker.StateRunning {
		c.StartedAt = f.tick()
	} else {
		c.FinishedAt = f.tick()
	}
	f.containers[c.ID] = c
	return c
}

func (f *fakeDocker) byName(name string) *docker.Container {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.containers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (f *fakeDocker) get(id string) (*docker.Container, error) {
	if c, ok := f.containers[id]; ok {
		return c, nil
	}
	for _, c := range f.containers {
		if c.Name == id {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no container %s: %w", id, docker.ErrNotFound)
}

func (f *fakeDocker) nameOf(id string) string {
	if c, ok := f.containers[id]; ok {
		return c.Name
	}
	return id
}

func (f *fakeDocker) ImageInspect(ctx context.Context, ref string) (docker.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("ImageInspect", ref); err != nil {
		return docker.Image{}, err
	}
	img, ok := f.images[ref]
	if !ok {
		return img, fmt.Errorf("inspect image %s: %w", ref, docker.ErrNotFound)
	}
	return img, nil
}

func (f *fakeDocker) Create(ctx context.Context, s docker.ContainerSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Create", s.Name); err != nil {
		return "", err
	}
	for _, c := range f.containers {
		if c.Name == s.Name {
			return "", fmt.Errorf("create %s: name in use", s.Name)
		}
	}
	f.seq++
	c := &docker.Container{
		ID: fmt.Sprintf("id%d", f.seq), Name: s.Name, Image: s.Image, State: docker.StateCreated,
		Labels: maps.Clone(s.Labels), Created: f.tick(), IPs: map[string]string{},
	}
	f.containers[c.ID] = c
	f.specs[c.ID] = s
	return c.ID, nil
}

func (f *fakeDocker) Start(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Start", f.nameOf(id)); err != nil {
		return err
	}
	c, err := f.get(id)
	if err != nil {
		return err
	}
	c.State, c.StartedAt = docker.StateRunning, f.tick()
	if c.IPs["kamal"] == "" {
		c.IPs["kamal"] = "10.0.1." + strings.TrimPrefix(c.ID, "id")
	}
	return nil
}

func (f *fakeDocker) Stop(ctx context.Context, id string, timeout time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Stop", f.nameOf(id)); err != nil {
		return err
	}
	c, err := f.get(id)
	if err != nil {
		return err
	}
	c.State, c.FinishedAt = docker.StateExited, f.tick()
	return nil
}

func (f *fakeDocker) Rename(ctx context.Context, id, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Rename", f.nameOf(id)); err != nil {
		return err
	}
	c, err := f.get(id)
	if err != nil {
		return err
	}
	c.Name = name
	return nil
}

func (f *fakeDocker) Remove(ctx context.Context, id string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Remove", f.nameOf(id)); err != nil {
		return err
	}
	c, err := f.get(id)
	if err != nil {
		return err
	}
	if c.State == docker.StateRunning && !force {
		return errors.New("remove a running container")
	}
	delete(f.containers, c.ID)
	return nil
}

func (f *fakeDocker) Inspect(ctx context.Context, id string) (docker.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err, ok := f.fail["Inspect:"+f.nameOf(id)]; ok {
		return docker.Container{}, err
	}
	c, err := f.get(id)
	if err != nil {
		return docker.Container{}, err
	}
	return *c, nil
}

func (f *fakeDocker) List(ctx context.Context, labels map[string]string, all bool) ([]docker.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail["List"]; err != nil {
		return nil, err
	}
	var out []docker.Container
	for _, id := range slices.Sorted(maps.Keys(f.containers)) {
		c := f.containers[id]
		if !all && c.State != docker.StateRunning {
			continue
		}
		match := true
		for k, v := range labels {
			got, ok := c.Labels[k]
			if !ok || (v != "" && got != v) {
				match = false
			}
		}
		if match {
			lc := *c
			lc.StartedAt, lc.FinishedAt = time.Time{}, time.Time{} // like the real List
			out = append(out, lc)
		}
	}
	return out, nil
}

func (f *fakeDocker) Logs(ctx context.Context, id string, tail int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("Logs", f.nameOf(id)); err != nil {
		return "", err
	}
	lines := strings.SplitAfter(f.logs[f.nameOf(id)], "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if tail > 0 && len(lines) > tail {
		lines = lines[len(lines)-tail:]
	}
	return strings.Join(lines, ""), nil
}

// state returns name -> state of every container.
func (f *fakeDocker) states() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for _, c := range f.containers {
		out[c.Name] = c.State
	}
	return out
}

func (f *fakeDocker) called(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// fakeRouter keeps the live server set and records calls; failOnce fails
// the first call of a method.
type fakeRouter struct {
	mu       sync.Mutex
	live     []Server
	routed   bool
	calls    []string
	failOnce map[string]error
	block    map[string]bool // block until ctx done
}

func newFakeRouter() *fakeRouter {
	return &fakeRouter{failOnce: map[string]error{}, block: map[string]bool{}}
}

func (r *fakeRouter) record(ctx context.Context, op string, s []Server) error {
	r.mu.Lock()
	addrs := make([]string, len(s))
	for i, x := range s {
		addrs[i] = x.Address
	}
	r.calls = append(r.calls, op+" "+strings.Join(addrs, ","))
	err, ok := r.failOnce[op]
	if ok {
		delete(r.failOnce, op)
	}
	block := r.block[op]
	r.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (r *fakeRouter) Route(ctx context.Context, d *contract.Deploy, s []Server) error {
	if err := r.record(ctx, "Route", s); err != nil {
		return err
	}
	r.mu.Lock()
	r.live, r.routed = slices.Clone(s), true
	r.mu.Unlock()
	return nil
}

func (r *fakeRouter) Confirm(ctx context.Context, d *contract.Deploy, s []Server) error {
	return r.record(ctx, "Confirm", s)
}

func (r *fakeRouter) Drain(ctx context.Context, d *contract.Deploy, s []Server) error {
	return r.record(ctx, "Drain", s)
}

func (r *fakeRouter) Unroute(ctx context.Context, d *contract.Deploy) error {
	if err := r.record(ctx, "Unroute", nil); err != nil {
		return err
	}
	r.mu.Lock()
	r.live, r.routed = nil, false
	r.mu.Unlock()
	return nil
}

func (r *fakeRouter) liveAddrs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.live {
		out = append(out, s.Address)
	}
	return out
}

// fakeProber fails the containers named in fail, and blocks those in block
// until ctx ends.
type fakeProber struct {
	mu     sync.Mutex
	fail   map[string]error
	block  map[string]chan struct{} // closed when the probe started
	probed []string
}

func (p *fakeProber) Ready(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	p.mu.Lock()
	p.probed = append(p.probed, c.Name)
	err := p.fail[c.Name]
	started, block := p.block[c.Name]
	p.mu.Unlock()
	if block {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (p *fakeProber) Check(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	return p.Ready(ctx, d, c)
}

// testDeploy returns a valid spec of app/web for version with a proxy.
func testDeploy(version string) *contract.Deploy {
	return &contract.Deploy{
		APIVersion: contract.APIVersion, Service: "app", Role: "web", Version: version,
		Image: "app:" + version, Env: map[string]string{"RAILS_ENV": "production"},
		SecretEnv:   map[string]string{"DATABASE_PASSWORD": "hunter2-secret"},
		Healthcheck: contract.Healthcheck{Kind: contract.HealthHTTP},
		Proxy:       &contract.Proxy{Hosts: []string{"app.example.com"}, AppPort: 3000},
	}
}

type harness struct {
	docker *fakeDocker
	router *fakeRouter
	prober *fakeProber
	engine *Engine
	events []contract.Event
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{docker: newFakeDocker(), router: newFakeRouter(), prober: &fakeProber{fail: map[string]error{}, block: map[string]chan struct{}{}}}
	h.engine = &Engine{Docker: h.docker, Router: h.router, Prober: h.prober, ConfirmTimeout: time.Second,
		Logger: slog.New(slog.DiscardHandler)}
	return h
}

func (h *harness) emit(ev contract.Event) { h.events = append(h.events, ev) }

// trail returns "step:status" for every event.
func (h *harness) trail() []string {
	out := make([]string, len(h.events))
	for i, e := range h.events {
		out[i] = e.Step + ":" + e.Status
	}
	return out
}

// assertServing checks the invariant: the proxy points only at running
// containers.
func (h *harness) assertServing(t testing.TB) {
	t.Helper()
	for _, a := range h.router.liveAddrs() {
		ok := false
		for _, c := range h.docker.containers {
			if c.State == docker.StateRunning && strings.HasPrefix(a, c.IPs["kamal"]+":") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("proxy routes to %s, which is no running container (states %v)", a, h.docker.states())
		}
	}
}

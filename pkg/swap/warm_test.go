package swap

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// fakeWarm is a WarmSet in memory.
type fakeWarm struct {
	mu    sync.Mutex
	until map[string]time.Time
	live  string // what Live says
}

func (w *fakeWarm) Warm(role contract.Role) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for n := range w.until {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (w *fakeWarm) Keep(role contract.Role, container string, until time.Time, stopTimeout time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.until[container] = until
	return nil
}

func (w *fakeWarm) Live(contract.Role) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.live
}

func (w *fakeWarm) Drop(role contract.Role, container string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.until, container)
	return nil
}

var webRole = contract.Role{Service: "app", Role: "web"}

// warmHarness deploys v2 over a routed v1 with a 3-minute window.
func warmHarness(t *testing.T) (*harness, *fakeWarm, *docker.Container) {
	t.Helper()
	h := newHarness(t)
	w := &fakeWarm{until: map[string]time.Time{}}
	h.engine.Warm = w
	blue := h.withBlue()
	d := testDeploy("v2")
	d.KeepWarm = contract.Duration(3 * time.Minute)
	res, err := h.engine.Deploy(context.Background(), d, h.emit)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"check-image", "start-green", "wait-healthy", "cutover", "drain-blue", "keep-warm", "prune"}
	if !slices.Equal(res.Plan.Names(), want) {
		t.Fatalf("plan %v, want %v", res.Plan.Names(), want)
	}
	return h, w, blue
}

func TestKeepWarmLeavesBlueRunningOutOfRotation(t *testing.T) {
	h, w, blue := warmHarness(t)
	green := h.docker.byName("app-web-v2")
	if blue.State != docker.StateRunning || green.State != docker.StateRunning {
		t.Fatalf("states %v: both must run", h.docker.states())
	}
	if live := h.router.liveAddrs(); !slices.Equal(live, []string{green.IPs["kamal"] + ":3000"}) {
		t.Errorf("proxy routes to %v, want green only", live)
	}
	if got := w.Warm(webRole); !slices.Equal(got, []string{"app-web-v1"}) {
		t.Errorf("warm %v", got)
	}
	if until := w.until["app-web-v1"]; time.Until(until) < 2*time.Minute || time.Until(until) > 3*time.Minute {
		t.Errorf("warm until %v, want about 3m from now", until)
	}
	if len(h.docker.called("Stop")) != 0 {
		t.Errorf("nothing may stop: %v", h.docker.calls)
	}
}

func TestWarmRollbackIsARouteSwitch(t *testing.T) {
	h, w, blue := warmHarness(t)
	green := h.docker.byName("app-web-v2")
	h.docker.calls, h.prober.probed = nil, nil
	res, err := h.engine.Rollback(context.Background(), webRole, "v1", h.emit)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"start-retained", "wait-healthy", "cutover", "drain-blue", "keep-warm", "prune"}
	if !slices.Equal(res.Plan.Names(), want) {
		t.Errorf("plan %v, want %v", res.Plan.Names(), want)
	}
	if s := h.docker.called("Start"); len(s) != 0 {
		t.Errorf("a warm rollback starts nothing: %v", s)
	}
	if !slices.Equal(h.prober.probed, []string{"app-web-v1"}) {
		t.Errorf("probes %v, want one check of v1", h.prober.probed)
	}
	if live := h.router.liveAddrs(); !slices.Equal(live, []string{blue.IPs["kamal"] + ":3000"}) {
		t.Errorf("proxy routes to %v, want v1", live)
	}
	if blue.State != docker.StateRunning || green.State != docker.StateRunning {
		t.Errorf("states %v: v2 stays warm", h.docker.states())
	}
	if got := w.Warm(webRole); !slices.Equal(got, []string{"app-web-v2"}) {
		t.Errorf("warm %v, want v2 only (v1 serves)", got)
	}
}

func TestDeployStopsTheContainerWarmBefore(t *testing.T) {
	h, w, blue := warmHarness(t)
	d := testDeploy("v3")
	d.KeepWarm = contract.Duration(time.Minute)
	h.docker.images["app:v3"] = docker.Image{ID: "sha256:v3"}
	res, err := h.engine.Deploy(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Plan.Names(), "stop-blue") {
		t.Fatalf("plan %v", res.Plan.Names())
	}
	if blue.State != docker.StateExited || h.docker.byName("app-web-v2").State != docker.StateRunning {
		t.Errorf("states %v: v1 (warm before) stops, v2 (live before) stays warm", h.docker.states())
	}
	if got := w.Warm(webRole); !slices.Equal(got, []string{"app-web-v2"}) {
		t.Errorf("warm %v", got)
	}
	if dr := h.router.calls[len(h.router.calls)-1]; dr != "Drain "+h.docker.byName("app-web-v2").IPs["kamal"]+":3000" {
		t.Errorf("drains %q: only the container that was live", dr)
	}
}

func TestWarmContainerCountsAsRetained(t *testing.T) {
	h := newHarness(t)
	w := &fakeWarm{until: map[string]time.Time{}}
	h.engine.Warm = w
	for _, v := range []string{"v0a", "v0b", "v0c"} {
		h.docker.add(testDeploy(v), "app-web-"+v, docker.StateExited)
	}
	h.withBlue()
	d := testDeploy("v2")
	d.KeepWarm = contract.Duration(time.Minute)
	d.RetainContainers = 2
	res, err := h.engine.Deploy(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Kept: v1 (warm) and v0c (newest stopped); 2 in all.
	if want := []string{"app-web-v0b", "app-web-v0a"}; !slices.Equal(res.Pruned, want) {
		t.Errorf("pruned %v, want %v", res.Pruned, want)
	}
}

func TestKeepWarmZeroStopsBlue(t *testing.T) {
	h := newHarness(t)
	w := &fakeWarm{until: map[string]time.Time{"app-web-v2": time.Now()}}
	h.engine.Warm = w
	blue := h.withBlue()
	res, err := h.engine.Deploy(context.Background(), testDeploy("v2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Plan.Names(), []string{"check-image", "start-green", "wait-healthy", "cutover", "drain-blue", "keep-warm", "stop-blue", "prune"}) {
		t.Errorf("plan %v", res.Plan.Names())
	}
	if blue.State != docker.StateExited || len(w.Warm(webRole)) != 0 {
		t.Errorf("states %v, warm %v", h.docker.states(), w.Warm(webRole))
	}
}

func TestWarmRollbackWithFailingCheckWaits(t *testing.T) {
	h, _, _ := warmHarness(t)
	calls := 0
	h.engine.Prober = proberFunc(func(ctx context.Context, d *contract.Deploy, c docker.Container) error {
		calls++
		if calls == 1 {
			return ErrBusy // the one check fails
		}
		return nil
	})
	if _, err := h.engine.Rollback(context.Background(), webRole, "v1", nil); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("prober calls %d, want the check then the wait", calls)
	}
}

// jobContainers: a job role whose v1 ran 10s (readiness delay 7s) and was
// stopped when v2 replaced it.
func jobContainers(h *harness) (*contract.Deploy, *docker.Container) {
	jd := testDeploy("v1")
	jd.Role, jd.Proxy = "job", nil
	jd.Healthcheck = contract.Healthcheck{Kind: contract.HealthRunning}
	jd.ApplyDefaults()
	old := h.docker.add(jd, "app-job-v1", docker.StateExited)
	old.StartedAt = old.FinishedAt.Add(-10 * time.Second)
	v2 := *jd
	v2.Version = "v2"
	green := h.docker.add(&v2, "app-job-v2", docker.StateRunning)
	// v2 started, passed its readiness delay, then v1 stopped.
	green.StartedAt = old.FinishedAt.Add(-8 * time.Second)
	h.engine.Router = nil
	return jd, old
}

func TestRollbackJobToVersionLiveJustBeforeWaitsOneSecond(t *testing.T) {
	h := newHarness(t)
	jobContainers(h)
	var delay time.Duration
	h.engine.Prober = proberFunc(func(ctx context.Context, d *contract.Deploy, c docker.Container) error {
		delay = d.Healthcheck.ReadinessDelay.D()
		return nil
	})
	if _, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "job"}, "v1", nil); err != nil {
		t.Fatal(err)
	}
	if delay != ProvenReadiness {
		t.Errorf("readiness delay %v, want %v", delay, ProvenReadiness)
	}
}

func TestProvenRetained(t *testing.T) {
	h := newHarness(t)
	jd, old := jobContainers(h)
	all := func() []docker.Container {
		var cs []docker.Container
		for _, c := range h.docker.containers {
			cs = append(cs, *c)
		}
		return cs
	}
	if !provenRetained(all(), *old, jd) {
		t.Fatal("v1, live just before, ran past its readiness delay: proven")
	}
	short := *old
	short.StartedAt = old.FinishedAt.Add(-3 * time.Second)
	if provenRetained(all(), short, jd) {
		t.Error("a container that ran less than its readiness delay is not proven")
	}
	// A container stopped after v1 was live after it.
	v0 := *jd
	v0.Version = "v0"
	later := h.docker.add(&v0, "app-job-v0", docker.StateExited)
	later.FinishedAt = old.FinishedAt.Add(time.Minute)
	if provenRetained(all(), *old, jd) {
		t.Error("v1 was not the last one stopped: not proven")
	}
	web := testDeploy("v1")
	web.ApplyDefaults()
	if provenRetained(all(), *old, web) {
		t.Error("a role with a proxy gets its health check")
	}
}

// TestProvenRetainedRollForward: v2 replaced v1, a rollback went back to
// v1 (so v2 stopped last, while v1 ran again): rolling forward to v2 is a
// version live just before too, although v1, serving, is the older one.
func TestProvenRetainedRollForward(t *testing.T) {
	h := newHarness(t)
	jd, _ := jobContainers(h)
	v2 := h.docker.byName("app-job-v2")
	v1 := h.docker.byName("app-job-v1")
	v1.State, v1.StartedAt = docker.StateRunning, h.docker.tick()
	v2.State, v2.FinishedAt = docker.StateExited, v1.StartedAt.Add(2*time.Second)
	var cs []docker.Container
	for _, c := range h.docker.containers {
		cs = append(cs, *c)
	}
	if !provenRetained(cs, *v2, jd) {
		t.Error("v2, stopped by the rollback to v1 after v1 started, is proven")
	}
	// A crash: the container serving now started only after v2 stopped.
	v1.StartedAt = v2.FinishedAt.Add(time.Second)
	cs = cs[:0]
	for _, c := range h.docker.containers {
		cs = append(cs, *c)
	}
	if provenRetained(cs, *v2, jd) {
		t.Error("a container that stopped before the one serving started was not replaced by a swap: not proven")
	}
}

// TestOnlyOneContainerStaysWarm: two running containers that are not warm
// (a swap cut short after its cutover left both) and a deploy: the newest
// stays warm, the other stops.
func TestOnlyOneContainerStaysWarm(t *testing.T) {
	h := newHarness(t)
	w := &fakeWarm{until: map[string]time.Time{}}
	h.engine.Warm = w
	v0 := testDeploy("v0")
	v0.ApplyDefaults()
	older := h.docker.add(v0, "app-web-v0", docker.StateRunning)
	newer := h.withBlue()
	d := testDeploy("v2")
	d.KeepWarm = contract.Duration(time.Minute)
	if _, err := h.engine.Deploy(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
	if older.State != docker.StateExited || newer.State != docker.StateRunning {
		t.Errorf("states %v: the newer (v1) stays warm, the older (v0) stops", h.docker.states())
	}
	if got := w.Warm(webRole); !slices.Equal(got, []string{"app-web-v1"}) {
		t.Errorf("warm %v, want v1 only", got)
	}
}

// TestTheLastRoutedStaysWarm: a rollback to the older v0 was cut short
// after its cutover (v0 serves, the v1 it replaced still runs, neither in
// the warm set). The next deploy keeps v0 warm, the one the proxy routed to
// (the WarmSet's Live), though v1 is newer; both drain before v1 stops.
func TestTheLastRoutedStaysWarm(t *testing.T) {
	h := newHarness(t)
	v0 := testDeploy("v0")
	v0.ApplyDefaults()
	target := h.docker.add(v0, "app-web-v0", docker.StateRunning)
	replaced := h.withBlue()
	w := &fakeWarm{until: map[string]time.Time{}, live: target.Name}
	h.engine.Warm = w
	d := testDeploy("v2")
	d.KeepWarm = contract.Duration(time.Minute)
	if _, err := h.engine.Deploy(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
	if target.State != docker.StateRunning || replaced.State != docker.StateExited {
		t.Errorf("states %v: v0 (last routed) stays warm, v1 stops", h.docker.states())
	}
	if got := w.Warm(webRole); !slices.Equal(got, []string{target.Name}) {
		t.Errorf("warm %v, want %s only", got, target.Name)
	}
	drain := "Drain " + target.IPs["kamal"] + ":3000," + replaced.IPs["kamal"] + ":3000"
	if !slices.Contains(h.router.calls, drain) {
		t.Errorf("router calls %v, want %q: both drain", h.router.calls, drain)
	}
}

// TestGoingWarmForgetsTheOthers: when a container goes warm, every other
// warm container of the role stops and leaves the warm set, whatever the
// plan saw (here an entry whose container no longer runs).
func TestGoingWarmForgetsTheOthers(t *testing.T) {
	h := newHarness(t)
	v0 := testDeploy("v0")
	v0.ApplyDefaults()
	h.docker.add(v0, "app-web-v0", docker.StateExited)
	w := &fakeWarm{until: map[string]time.Time{"app-web-v0": time.Now().Add(time.Minute)}}
	h.engine.Warm = w
	blue := h.withBlue()
	d := testDeploy("v2")
	d.KeepWarm = contract.Duration(time.Minute)
	if _, err := h.engine.Deploy(context.Background(), d, nil); err != nil {
		t.Fatal(err)
	}
	if got := w.Warm(webRole); !slices.Equal(got, []string{blue.Name}) {
		t.Errorf("warm %v, want %s only", got, blue.Name)
	}
	if blue.State != docker.StateRunning {
		t.Errorf("blue %s is %s, want warm (running)", blue.Name, blue.State)
	}
}

// cancelInDrain cancels the swap once it drains blue.
type cancelInDrain struct {
	*fakeRouter
	cancel context.CancelFunc
}

func (r cancelInDrain) Drain(ctx context.Context, d *contract.Deploy, s []Server) error {
	r.cancel()
	return r.fakeRouter.Drain(ctx, d, s)
}

// A swap cancelled while it drains blue (its plugin killed) settles as the
// finished swap would have: green serves, blue is kept warm for keep_warm
// (then the sidecar stops it), and the container warm before is stopped,
// instead of three containers running with nobody to stop two of them.
func TestCancelledAfterCutoverKeepsBlueWarm(t *testing.T) {
	h, w, v1 := warmHarness(t)
	v2 := h.docker.byName("app-web-v2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.router.block["Drain"] = true
	h.engine.Router = cancelInDrain{fakeRouter: h.router, cancel: cancel}
	for _, name := range []string{"app-web-v0a", "app-web-v0b"} {
		h.docker.add(testDeploy("v0"), name, docker.StateExited)
	}
	d := testDeploy("v3")
	d.KeepWarm = contract.Duration(time.Minute)
	d.RetainContainers = 2
	h.docker.images["app:v3"] = docker.Image{ID: "sha256:v3"}
	if _, err := h.engine.Deploy(ctx, d, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	v3 := h.docker.byName("app-web-v3")
	if v3.State != docker.StateRunning || v2.State != docker.StateRunning || v1.State != docker.StateExited {
		t.Errorf("states %v: want v3 serving, v2 running warm, v1 (warm before) stopped", h.docker.states())
	}
	if live := h.router.liveAddrs(); !slices.Equal(live, []string{v3.IPs["kamal"] + ":3000"}) {
		t.Errorf("proxy routes to %v, want v3", live)
	}
	if got := w.Warm(webRole); !slices.Equal(got, []string{"app-web-v2"}) {
		t.Errorf("warm %v, want v2 alone", got)
	}
	if until := w.until["app-web-v2"]; time.Until(until) < 30*time.Second || time.Until(until) > time.Minute {
		t.Errorf("v2 warm until %v, want about a minute from now", until)
	}
	// Retain 2: the warm v2 and one stopped (v1, stopped just now, or an
	// older one), not the three stopped a cancelled swap would leave.
	stopped := 0
	for _, state := range h.docker.states() {
		if state == docker.StateExited {
			stopped++
		}
	}
	if stopped != 1 {
		t.Errorf("states %v: %d stopped, want 1 (retain_containers 2, one of them warm)", h.docker.states(), stopped)
	}
}

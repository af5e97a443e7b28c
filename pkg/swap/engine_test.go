package swap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// withBlue adds a running, routed v1 and returns it.
func (h *harness) withBlue() *docker.Container {
	d := testDeploy("v1")
	d.ApplyDefaults()
	blue := h.docker.add(d, "app-web-v1", docker.StateRunning)
	h.router.live = []Server{{Container: blue.Name, Address: blue.IPs["kamal"] + ":3000"}}
	return blue
}

func TestDeployReplacesBlue(t *testing.T) {
	h := newHarness(t)
	blue := h.withBlue()
	res, err := h.engine.Deploy(context.Background(), testDeploy("v2"), h.emit)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"check-image:start", "check-image:done", "start-green:start", "start-green:done",
		"wait-healthy:start", "wait-healthy:done", "cutover:start", "cutover:done",
		"drain-blue:start", "drain-blue:done", "stop-blue:start", "stop-blue:done",
		"prune:start", "prune:done",
	}
	if got := h.trail(); !slices.Equal(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
	green := h.docker.byName("app-web-v2")
	if green == nil || green.State != docker.StateRunning || blue.State != docker.StateExited {
		t.Fatalf("states %v", h.docker.states())
	}
	if live := h.router.liveAddrs(); !slices.Equal(live, []string{green.IPs["kamal"] + ":3000"}) {
		t.Errorf("proxy routes to %v", live)
	}
	wantRouter := []string{"Route 10.0.1.2:3000", "Confirm 10.0.1.2:3000", "Drain 10.0.0.1:3000"}
	if !slices.Equal(h.router.calls, wantRouter) {
		t.Errorf("router calls %v, want %v", h.router.calls, wantRouter)
	}
	if res.Container != "app-web-v2" || res.Previous != "app-web-v1" || res.Version != "v2" || res.ID != green.ID || len(res.Warnings) != 0 {
		t.Errorf("result %+v", res)
	}
	// Stop blue comes after the cutover was confirmed.
	calls := strings.Join(h.docker.calls, ";")
	if !strings.Contains(calls, "Start app-web-v2") || strings.Index(calls, "Stop app-web-v1") < strings.Index(calls, "Start app-web-v2") {
		t.Errorf("docker calls %v", h.docker.calls)
	}
	// Labels and env on green.
	cs := h.docker.specs[green.ID]
	for k, v := range map[string]string{contract.LabelService: "app", contract.LabelRole: "web", contract.LabelVersion: "v2", contract.LabelDestination: ""} {
		if got, ok := cs.Labels[k]; !ok || got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(cs.Labels[LabelSpec], "hunter2") || !strings.Contains(cs.Labels[LabelSpec], "DATABASE_PASSWORD") {
		t.Errorf("spec label must name the secret but not hold its value: %s", cs.Labels[LabelSpec])
	}
	if !slices.Contains(cs.Env, "DATABASE_PASSWORD=hunter2-secret") || !slices.Contains(cs.Env, "RAILS_ENV=production") {
		t.Errorf("env %v", cs.Env)
	}
	if cs.Network != contract.DefaultNetwork || cs.Restart != "unless-stopped" || cs.StopTimeout != contract.DefaultStopTimeout {
		t.Errorf("container spec %+v", cs)
	}
	h.assertServing(t)
}

func TestDeployFirstVersion(t *testing.T) {
	h := newHarness(t)
	res, err := h.engine.Deploy(context.Background(), testDeploy("v1"), h.emit)
	if err != nil {
		t.Fatal(err)
	}
	if res.Previous != "" || !slices.Equal(res.Plan.Names(), []string{"check-image", "start-green", "wait-healthy", "cutover", "prune"}) {
		t.Errorf("result %+v plan %v", res, res.Plan.Names())
	}
	h.assertServing(t)
}

// TestDeployFailureBeforeCutover fails each step before cutover and checks
// blue is untouched and serving, green stopped and kept with its logs.
func TestDeployFailureBeforeCutover(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		setup     func(h *harness)
		step      string
		greenKept bool // green exists (stopped) afterwards
		is        error
	}{
		{"image missing", func(h *harness) { delete(h.docker.images, "app:v2") }, StepCheckImage, false, ErrImageMissing},
		{"image mismatch", func(h *harness) { h.docker.images["app:v2"] = docker.Image{ID: "sha256:other"} }, StepCheckImage, false, ErrImageMismatch},
		{"image inspect error", func(h *harness) { h.docker.fail["ImageInspect"] = boom }, StepCheckImage, false, boom},
		{"create", func(h *harness) { h.docker.fail["Create:app-web-v2"] = boom }, StepStartGreen, false, boom},
		{"start", func(h *harness) { h.docker.fail["Start:app-web-v2"] = boom }, StepStartGreen, true, boom},
		{"inspect green", func(h *harness) { h.docker.fail["Inspect:app-web-v2"] = boom }, StepWaitHealthy, true, boom},
		{"unhealthy", func(h *harness) { h.prober.fail["app-web-v2"] = boom }, StepWaitHealthy, true, boom},
		{"route", func(h *harness) { h.router.failOnce["Route"] = boom }, StepCutover, true, boom},
		{"confirm", func(h *harness) { h.router.failOnce["Confirm"] = boom }, StepCutover, true, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			blue := h.withBlue()
			h.docker.logs["app-web-v2"] = "booting\nFATAL: cannot connect to db with hunter2-secret\n"
			d := testDeploy("v2")
			d.ImageID = "sha256:v2"
			tt.setup(h)
			res, err := h.engine.Deploy(context.Background(), d, h.emit)
			if res != nil {
				t.Errorf("result %+v on failure", res)
			}
			var se *StepError
			if !errors.As(err, &se) || se.Step != tt.step || !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want a StepError at %s wrapping %v", err, tt.step, tt.is)
			}
			if blue.State != docker.StateRunning || blue.Name != "app-web-v1" {
				t.Errorf("blue was touched: %+v", blue)
			}
			if got := h.docker.called("Stop app-web-v1"); len(got) != 0 {
				t.Errorf("blue was stopped: %v", got)
			}
			if live := h.router.liveAddrs(); !slices.Equal(live, []string{"10.0.0.1:3000"}) {
				t.Errorf("proxy routes to %v, want blue", live)
			}
			green := h.docker.byName("app-web-v2")
			if tt.greenKept {
				if green == nil || green.State == docker.StateRunning {
					t.Fatalf("green should be stopped and kept: %v", h.docker.states())
				}
				if !strings.Contains(err.Error(), "FATAL: cannot connect to db") {
					t.Errorf("error lacks green's logs: %v", err)
				}
				if strings.Contains(err.Error(), "hunter2-secret") {
					t.Errorf("error leaks a secret: %v", err)
				}
			} else if green != nil {
				t.Errorf("green should not exist: %+v", green)
			}
			last := h.events[len(h.events)-1]
			if last.Step != tt.step || last.Status != contract.EventFail || last.Message == "" {
				t.Errorf("last event %+v", last)
			}
			h.assertServing(t)
		})
	}
}

func TestDeployFirstVersionCutoverFailureUnroutes(t *testing.T) {
	h := newHarness(t)
	h.router.failOnce["Confirm"] = errors.New("traefik did not pick it up")
	_, err := h.engine.Deploy(context.Background(), testDeploy("v1"), h.emit)
	if err == nil || !strings.Contains(err.Error(), "traefik did not pick it up") {
		t.Fatalf("err = %v", err)
	}
	if h.router.routed || h.router.calls[len(h.router.calls)-1] != "Unroute " {
		t.Errorf("router %v routed=%v", h.router.calls, h.router.routed)
	}
	h.assertServing(t)
}

// TestDeployFailureAfterCutover: drain, stop and prune failures are
// warnings; green serves.
func TestDeployFailureAfterCutover(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name  string
		setup func(h *harness)
		step  string
	}{
		{"drain", func(h *harness) { h.router.failOnce["Drain"] = boom }, StepDrainBlue},
		{"stop blue", func(h *harness) { h.docker.fail["Stop:app-web-v1"] = boom }, StepStopBlue},
		{"prune", func(h *harness) { h.docker.fail["List"] = nil; h.docker.fail["Remove"] = boom }, StepPrune},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.withBlue()
			for _, v := range []string{"v0a", "v0b", "v0c"} {
				d := testDeploy(v)
				h.docker.add(d, d.ContainerName(), docker.StateExited)
			}
			d := testDeploy("v2")
			d.RetainContainers = 1
			tt.setup(h)
			res, err := h.engine.Deploy(context.Background(), d, h.emit)
			if err != nil {
				t.Fatalf("err = %v; failures after cutover must not fail the deploy", err)
			}
			if len(res.Warnings) != 1 || !strings.HasPrefix(res.Warnings[0], tt.step+": ") {
				t.Errorf("warnings %v", res.Warnings)
			}
			if !slices.Contains(h.trail(), tt.step+":fail") {
				t.Errorf("no failed event for %s: %v", tt.step, h.trail())
			}
			green := h.docker.byName("app-web-v2")
			if live := h.router.liveAddrs(); len(live) != 1 || live[0] != green.IPs["kamal"]+":3000" {
				t.Errorf("proxy routes to %v, want green", live)
			}
			h.assertServing(t)
		})
	}
}

func TestDeployDrainTimeoutStillStopsBlue(t *testing.T) {
	h := newHarness(t)
	blue := h.withBlue()
	h.router.block["Drain"] = true
	d := testDeploy("v2")
	d.DrainTimeout = contract.Duration(50 * time.Millisecond)
	res, err := h.engine.Deploy(context.Background(), d, h.emit)
	if err != nil {
		t.Fatal(err)
	}
	if blue.State != docker.StateExited || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "in-flight requests remain") {
		t.Errorf("blue %s warnings %v", blue.State, res.Warnings)
	}
}

func TestDeployCancelWhileWaitingHealthy(t *testing.T) {
	h := newHarness(t)
	blue := h.withBlue()
	started := make(chan struct{})
	h.prober.block["app-web-v2"] = started
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := h.engine.Deploy(ctx, testDeploy("v2"), h.emit)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if green := h.docker.byName("app-web-v2"); green == nil || green.State != docker.StateExited {
		t.Errorf("green should be stopped and kept: %v", h.docker.states())
	}
	if blue.State != docker.StateRunning || len(h.router.calls) != 0 {
		t.Errorf("blue %s, router %v", blue.State, h.router.calls)
	}
	h.assertServing(t)
}

// gatedConfirm holds Confirm until gate closes and records whether its
// context had ended by then.
type gatedConfirm struct {
	*fakeRouter
	started chan struct{}
	once    sync.Once
	gate    chan struct{}
	cut     atomic.Bool
}

func (r *gatedConfirm) Confirm(ctx context.Context, d *contract.Deploy, s []Server) error {
	r.once.Do(func() { close(r.started) })
	select {
	case <-r.gate:
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		r.cut.Store(true)
		return ctx.Err()
	}
	return r.fakeRouter.Confirm(ctx, d, s)
}

// A cancel while the cutover waits for the proxy to serve green does not
// cut the wait short: the swap ends with green confirmed serving and blue
// still running, so the host's version is settled when the sidecar says
// the swap is over.
func TestDeployCancelDuringConfirmLeavesBothRunning(t *testing.T) {
	h := newHarness(t)
	blue := h.withBlue()
	gated := &gatedConfirm{fakeRouter: h.router, started: make(chan struct{}), gate: make(chan struct{})}
	h.engine.Router = gated
	h.engine.ConfirmTimeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	h.engine.Prober = proberFunc(func(context.Context, *contract.Deploy, docker.Container) error { return nil })
	done := make(chan error, 1)
	go func() {
		_, err := h.engine.Deploy(ctx, testDeploy("v2"), nil)
		done <- err
	}()
	select {
	case <-gated.started:
	case <-time.After(5 * time.Second):
		t.Fatal("cutover never confirmed")
	}
	cancel()
	close(gated.gate)
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if gated.cut.Load() {
		t.Error("the cancel cut the cutover's confirmation short")
	}
	green := h.docker.byName("app-web-v2")
	if green.State != docker.StateRunning || blue.State != docker.StateRunning {
		t.Errorf("both must keep running: %v", h.docker.states())
	}
	if !h.router.routedNow() {
		t.Errorf("route %v, want green's", h.router.live)
	}
	h.assertServing(t)
}

func (r *fakeRouter) routedNow() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live) == 1 && r.live[0].Container == "app-web-v2"
}

type proberFunc func(context.Context, *contract.Deploy, docker.Container) error

func (f proberFunc) Ready(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	return f(ctx, d, c)
}

func (f proberFunc) Check(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	return f(ctx, d, c)
}

func TestRedeploySameVersionRenamesAside(t *testing.T) {
	h := newHarness(t)
	blue := h.withBlue()
	res, err := h.engine.Deploy(context.Background(), testDeploy("v1"), h.emit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(blue.Name, "app-web-v1_replaced_") || len(blue.Name) != len("app-web-v1_replaced_")+16 {
		t.Errorf("blue renamed to %q", blue.Name)
	}
	if blue.State != docker.StateExited {
		t.Errorf("blue %s", blue.State)
	}
	green := h.docker.byName("app-web-v1")
	if green == nil || green.ID == blue.ID || green.State != docker.StateRunning || res.ID != green.ID {
		t.Errorf("green %+v", green)
	}
	if res.Plan.Names()[1] != StepRenameAside {
		t.Errorf("plan %v", res.Plan.Names())
	}
}

func TestDeployNoProxyRole(t *testing.T) {
	h := newHarness(t)
	jd := testDeploy("v1")
	jd.Role, jd.Proxy = "job", nil
	jd.Healthcheck = contract.Healthcheck{Kind: contract.HealthRunning}
	jd.ApplyDefaults()
	old := h.docker.add(jd, "app-job-v1", docker.StateRunning)
	h.engine.Router = nil
	d := testDeploy("v2")
	d.Role, d.Proxy = "job", nil
	d.Healthcheck = contract.Healthcheck{Kind: contract.HealthRunning}
	res, err := h.engine.Deploy(context.Background(), d, h.emit)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Plan.Names(), []string{"check-image", "start-green", "wait-healthy", "stop-blue", "prune"}) {
		t.Errorf("plan %v", res.Plan.Names())
	}
	if old.State != docker.StateExited || h.docker.byName("app-job-v2").State != docker.StateRunning {
		t.Errorf("states %v", h.docker.states())
	}
}

func TestDeployProxyWithoutRouter(t *testing.T) {
	h := newHarness(t)
	h.engine.Router = nil
	if _, err := h.engine.Deploy(context.Background(), testDeploy("v2"), nil); !errors.Is(err, ErrNoRouter) {
		t.Fatalf("err = %v", err)
	}
	if len(h.docker.calls) != 0 {
		t.Errorf("docker calls %v", h.docker.calls)
	}
}

func TestDeployBusy(t *testing.T) {
	h := newHarness(t)
	started := make(chan struct{})
	h.prober.block["app-web-v2"] = started
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := h.engine.Deploy(ctx, testDeploy("v2"), nil); done <- err }()
	<-started
	if _, err := h.engine.Deploy(context.Background(), testDeploy("v1"), nil); !errors.Is(err, ErrBusy) {
		t.Errorf("second deploy: %v, want ErrBusy", err)
	}
	if _, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v1", nil); !errors.Is(err, ErrBusy) {
		t.Errorf("rollback: %v, want ErrBusy", err)
	}
	cancel()
	<-done
	// A different destination is a different role.
	d := testDeploy("v1")
	d.Destination = "staging"
	if _, err := h.engine.Deploy(context.Background(), d, nil); err != nil {
		t.Errorf("other destination: %v", err)
	}
}

func TestDeployInvalidSpec(t *testing.T) {
	h := newHarness(t)
	d := testDeploy("v2")
	d.Service = "Bad Name"
	var fe *contract.FieldError
	if _, err := h.engine.Deploy(context.Background(), d, nil); !errors.As(err, &fe) || fe.Field != "service" {
		t.Fatalf("err = %v", err)
	}
	d = testDeploy("v2")
	d.Options.Extra = map[string][]string{"pid": {"host"}}
	if _, err := h.engine.Deploy(context.Background(), d, nil); !errors.Is(err, ErrUnsupportedOption) {
		t.Fatalf("extra options: %v", err)
	}
}

func TestRollback(t *testing.T) {
	h := newHarness(t)
	v1 := testDeploy("v1")
	v1.ApplyDefaults()
	old := h.docker.add(v1, "app-web-v1", docker.StateExited)
	v2 := testDeploy("v2")
	v2.ApplyDefaults()
	cur := h.docker.add(v2, "app-web-v2", docker.StateRunning)
	h.router.live = []Server{{Container: cur.Name, Address: cur.IPs["kamal"] + ":3000"}}

	res, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v1", h.emit)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Plan.Names(), []string{"start-retained", "wait-healthy", "cutover", "drain-blue", "stop-blue"}) {
		t.Errorf("plan %v", res.Plan.Names())
	}
	if old.State != docker.StateRunning || cur.State != docker.StateExited {
		t.Errorf("states %v", h.docker.states())
	}
	if live := h.router.liveAddrs(); !slices.Equal(live, []string{old.IPs["kamal"] + ":3000"}) {
		t.Errorf("live %v", live)
	}
	if len(h.docker.called("Create")) != 0 || len(h.docker.called("ImageInspect")) != 0 {
		t.Errorf("rollback must reuse the container: %v", h.docker.calls)
	}
	if res.Kind != KindRollback || res.Container != "app-web-v1" || res.Previous != "app-web-v2" {
		t.Errorf("result %+v", res)
	}

	if _, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v9", nil); !errors.Is(err, ErrNotRetained) {
		t.Errorf("unknown version: %v", err)
	}
	if _, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Destination: "staging", Role: "web"}, "v2", nil); !errors.Is(err, ErrNotRetained) {
		t.Errorf("other destination: %v", err)
	}
}

func TestRollbackUnhealthyLeavesCurrentServing(t *testing.T) {
	h := newHarness(t)
	v1 := testDeploy("v1")
	old := h.docker.add(v1, "app-web-v1", docker.StateExited)
	cur := h.docker.add(testDeploy("v2"), "app-web-v2", docker.StateRunning)
	h.router.live = []Server{{Container: cur.Name, Address: cur.IPs["kamal"] + ":3000"}}
	h.prober.fail["app-web-v1"] = errors.New("500 from /up")
	_, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v1", h.emit)
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepWaitHealthy {
		t.Fatalf("err = %v", err)
	}
	if old.State != docker.StateExited || cur.State != docker.StateRunning || len(h.router.calls) != 0 {
		t.Errorf("states %v router %v", h.docker.states(), h.router.calls)
	}
}

func TestRollbackPicksReplacedWhenCanonicalGone(t *testing.T) {
	h := newHarness(t)
	v1 := testDeploy("v1")
	a := h.docker.add(v1, "app-web-v1_replaced_00000000000000aa", docker.StateExited)
	b := h.docker.add(v1, "app-web-v1_replaced_00000000000000bb", docker.StateExited)
	h.docker.add(testDeploy("v2"), "app-web-v2", docker.StateRunning)
	res, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != b.ID || a.State != docker.StateExited {
		t.Errorf("rolled back to %s, want the newest %s", res.Container, b.Name)
	}
}

func TestRollbackRejectsForeignSpecLabel(t *testing.T) {
	h := newHarness(t)
	c := h.docker.add(testDeploy("v1"), "app-web-v1", docker.StateExited)
	other := testDeploy("v1")
	other.Service = "other"
	c.Labels[LabelSpec], _ = encodeSpec(other)
	if _, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v1", nil); !errors.Is(err, ErrForeignSpec) {
		t.Fatalf("err = %v", err)
	}
	delete(c.Labels, LabelSpec)
	if _, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v1", nil); !errors.Is(err, ErrNoSpecLabel) {
		t.Fatalf("err = %v", err)
	}
}

func TestPruneKeepsNewestPerDestination(t *testing.T) {
	h := newHarness(t)
	for _, dest := range []string{"a", "b"} {
		for i := range 7 {
			d := testDeploy("v0" + string(rune('a'+i)))
			d.Destination = dest
			h.docker.add(d, d.ContainerName(), docker.StateExited)
		}
	}
	d := testDeploy("v2")
	d.Destination = "a"
	d.RetainContainers = 3
	res, err := h.engine.Deploy(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantPruned := []string{"app-web-a-v0d", "app-web-a-v0c", "app-web-a-v0b", "app-web-a-v0a"}
	if !slices.Equal(res.Pruned, wantPruned) {
		t.Errorf("pruned %v, want %v", res.Pruned, wantPruned)
	}
	left := 0
	for name := range h.docker.states() {
		if strings.HasPrefix(name, "app-web-b-") {
			left++
		}
	}
	if left != 7 {
		t.Errorf("destination b lost containers: %d left", left)
	}
	vs, err := h.engine.Versions(context.Background(), contract.Role{Service: "app", Destination: "a", Role: "web"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Version)
	}
	if !slices.Equal(got, []string{"v2", "v0g", "v0f", "v0e"}) || !vs[0].Live || vs[1].Live {
		t.Errorf("versions %v", got)
	}
}

func TestRedeployRenameAsideFailure(t *testing.T) {
	h := newHarness(t)
	blue := h.withBlue()
	h.docker.fail["Rename:app-web-v1"] = errors.New("name conflict")
	_, err := h.engine.Deploy(context.Background(), testDeploy("v1"), h.emit)
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepRenameAside {
		t.Fatalf("err = %v", err)
	}
	if blue.Name != "app-web-v1" || blue.State != docker.StateRunning || len(h.docker.called("Create")) != 0 {
		t.Errorf("blue %+v, calls %v", blue, h.docker.calls)
	}
	if live := h.router.liveAddrs(); !slices.Equal(live, []string{"10.0.0.1:3000"}) {
		t.Errorf("live %v", live)
	}
}

func TestRollbackStartFailure(t *testing.T) {
	h := newHarness(t)
	old := h.docker.add(testDeploy("v1"), "app-web-v1", docker.StateExited)
	cur := h.docker.add(testDeploy("v2"), "app-web-v2", docker.StateRunning)
	h.router.live = []Server{{Container: cur.Name, Address: cur.IPs["kamal"] + ":3000"}}
	h.docker.logs["app-web-v1"] = "v1 cannot start: port in use\n"
	h.docker.fail["Start:app-web-v1"] = errors.New("start failed")
	_, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v1", h.emit)
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepStartRetained || !strings.Contains(err.Error(), "port in use") {
		t.Fatalf("err = %v", err)
	}
	if old.State != docker.StateExited || cur.State != docker.StateRunning || len(h.router.calls) != 0 {
		t.Errorf("states %v router %v", h.docker.states(), h.router.calls)
	}
	h.assertServing(t)
}

func TestRollbackToRunningVersionReroutes(t *testing.T) {
	h := newHarness(t)
	cur := h.docker.add(testDeploy("v2"), "app-web-v2", docker.StateRunning)
	h.prober.fail["app-web-v2"] = errors.New("unhealthy now")
	_, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v2", nil)
	if err == nil || cur.State != docker.StateRunning {
		t.Fatalf("a running target that fails its probe must be left running: err %v state %s", err, cur.State)
	}
	delete(h.prober.fail, "app-web-v2")
	res, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.docker.called("Start")) != 0 || res.Previous != "" || !h.router.routedNow() {
		t.Errorf("calls %v result %+v", h.docker.calls, res)
	}
}

// TestFailedDeploysKeepRetention: failed deploys (never healthy, or
// cancelled before cutover) stop and keep their green, and that kept green
// counts against retain_containers, so repeated failures never pile up
// stopped containers; the newest failed green and blue are never removed.
func TestFailedDeploysKeepRetention(t *testing.T) {
	h := newHarness(t)
	blue := h.withBlue()
	old := testDeploy("v0")
	for _, v := range []string{"v0a", "v0b"} {
		h.docker.add(old, "app-web-"+v, docker.StateExited)
	}
	boom := errors.New("never healthy")
	for i := range 4 {
		v := fmt.Sprintf("nh%d", i)
		h.docker.images["app:"+v] = docker.Image{ID: "sha256:" + v}
		d := testDeploy(v)
		d.ImageID = "sha256:" + v
		d.RetainContainers = 2
		h.prober.fail["app-web-"+v] = boom
		ctx := context.Background()
		if i == 3 { // a cancel while waiting for health fails the same way
			c, cancel := context.WithCancel(ctx)
			cancel()
			ctx = c
		}
		if _, err := h.engine.Deploy(ctx, d, nil); err == nil {
			t.Fatalf("deploy of %s succeeded", v)
		}
		stopped := 0
		for name, st := range h.docker.states() {
			if st != docker.StateRunning {
				stopped++
			} else if name != blue.Name {
				t.Errorf("after %s, %s runs", v, name)
			}
		}
		if stopped > 2 {
			t.Errorf("after failed deploy %s: %d stopped containers, want at most retain_containers = 2: %v", v, stopped, h.docker.states())
		}
		if i < 3 && h.docker.byName("app-web-"+v) == nil {
			t.Errorf("the failed green app-web-%s was removed: %v", v, h.docker.states())
		}
	}
	if blue.State != docker.StateRunning {
		t.Errorf("blue %s is %s", blue.Name, blue.State)
	}
	h.assertServing(t)
}

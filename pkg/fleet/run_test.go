package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeDeployer records calls and fails chosen targets.
type fakeDeployer struct {
	mu      sync.Mutex
	live    map[Target]string
	version string
	failOn  map[Target]error
	// rollbackFails fails the rollback of these targets.
	rollbackFails map[Target]error
	cancelOn      Target
	cancel        context.CancelFunc
	// afterCutover makes the cancelled deploy behave like a sidecar
	// cancelled during drain: green already serves when the error returns.
	afterCutover bool
	// lateCutover makes it behave like a sidecar cancelled during drain
	// whose live version changes only when the swap winds down: the error
	// says the cutover was reported, LiveVersion still says the old one.
	lateCutover bool
	// windingDown is what a target's sidecar serves once the swap it is
	// winding down ends: it says the version it left to the first
	// LiveVersion, then this one; a rollback waits for the wind-down.
	windingDown map[Target]string
	calls       []string
}

func (f *fakeDeployer) Deploy(ctx context.Context, t Target) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "deploy "+t.String())
	if t == f.cancelOn && f.cancel != nil {
		if f.afterCutover {
			f.live[t] = f.version
		}
		f.cancel()
		if f.lateCutover {
			return fmt.Errorf("%w: %w", ErrFailedAfterCutover, ctx.Err())
		}
		return ctx.Err()
	}
	if err := f.failOn[t]; err != nil {
		return err
	}
	f.live[t] = f.version
	return nil
}

func (f *fakeDeployer) Rollback(ctx context.Context, t Target, v string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	f.calls = append(f.calls, "rollback "+t.String()+" "+v)
	if w, ok := f.windingDown[t]; ok {
		delete(f.windingDown, t)
		f.live[t] = w
	}
	if t == f.cancelOn && f.cancel != nil && f.version == "" && f.lateCutover {
		// Cancelled after its cutover was reported: the swap winds down
		// onto v after the error returns.
		f.windingDown = map[Target]string{t: v}
		f.cancel()
		f.cancel = nil
		return fmt.Errorf("%w: %w", ErrFailedAfterCutover, context.Canceled)
	}
	if t == f.cancelOn && f.cancel != nil && f.version == "" {
		// A rollback's swap cancelled after its cutover: the target
		// serves v when the error returns (and only once).
		f.live[t] = v
		f.cancel()
		f.cancel = nil
		return context.Canceled
	}
	if err := f.rollbackFails[t]; err != nil {
		return err
	}
	f.live[t] = v
	return nil
}

func (f *fakeDeployer) LiveVersion(_ context.Context, t Target) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.windingDown[t]; ok {
		delete(f.windingDown, t)
		old := f.live[t]
		f.live[t] = w
		return old, nil
	}
	return f.live[t], nil
}

func fleetOf(ts []Target, v string) map[Target]string {
	m := map[Target]string{}
	for _, t := range ts {
		m[t] = v
	}
	return m
}

var (
	w1, w2, j3 = Target{"h1", "web"}, Target{"h2", "web"}, Target{"h3", "job"}
	all        = []Target{w1, w2, j3}
)

func TestDeploySucceedsEverywhere(t *testing.T) {
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v2"}
	r := &Runner{Deployer: f}
	rep, err := r.Deploy(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, ParallelRoles: true}), "v2")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.Outcomes {
		if o.Status != "deployed" || o.Previous != "v1" {
			t.Fatalf("outcome %+v", o)
		}
	}
	if f.calls[0] != "deploy h1/web" {
		t.Fatalf("primary not first: %v", f.calls)
	}
}

func TestFailureOnLastHostRollsBackEarlierHosts(t *testing.T) {
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v4", failOn: map[Target]error{j3: errors.New("never healthy")}}
	r := &Runner{Deployer: f}
	_, err := r.Deploy(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v4")
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("want *Error, got %v", err)
	}
	if len(fe.RolledBack) != 2 || len(fe.Stuck) != 0 {
		t.Fatalf("rolled back %v stuck %v", fe.RolledBack, fe.Stuck)
	}
	for _, tg := range all {
		if f.live[tg] != "v1" {
			t.Fatalf("%s left on %s, fleet mixed: %v", tg, f.live[tg], f.live)
		}
	}
	if !strings.Contains(err.Error(), "h3/job: never healthy") || !strings.Contains(err.Error(), "rolled back h1/web, h2/web") {
		t.Fatalf("error does not report per host: %v", err)
	}
}

func TestFailedRollbackIsReportedStuck(t *testing.T) {
	stuck := errors.New("sidecar gone")
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v2",
		failOn: map[Target]error{j3: errors.New("never healthy")}, rollbackFails: map[Target]error{w2: stuck}}
	rep, err := (&Runner{Deployer: f}).Deploy(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v2")
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("want *Error, got %v", err)
	}
	if len(fe.Stuck) != 1 || fe.Stuck[0].Target != w2 || !errors.Is(fe.Stuck[0].Err, stuck) {
		t.Fatalf("stuck %+v", fe.Stuck)
	}
	if fmt.Sprint(fe.RolledBack) != fmt.Sprint([]Target{w1}) {
		t.Fatalf("rolled back %v", fe.RolledBack)
	}
	statuses := map[Target]string{}
	for _, o := range rep.Outcomes {
		statuses[o.Target] = o.Status
	}
	want := map[Target]string{w1: StatusRolledBack, w2: StatusRollbackFailed, j3: StatusFailed}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
}

func TestFirstDeployHasNothingToUndo(t *testing.T) {
	f := &fakeDeployer{live: map[Target]string{}, version: "v1", failOn: map[Target]error{j3: errors.New("boom")}}
	rep, err := (&Runner{Deployer: f}).Deploy(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, ParallelRoles: true}), "v1")
	var fe *Error
	if !errors.As(err, &fe) || len(fe.RolledBack) != 0 || len(fe.Stuck) != 0 {
		t.Fatalf("err %v", err)
	}
	for _, o := range rep.Outcomes {
		if o.Target != j3 && o.Status != StatusUnchanged {
			t.Errorf("%s: %s, want %s", o.Target, o.Status, StatusUnchanged)
		}
	}
}

func TestPrimaryFailureStopsBeforeOthers(t *testing.T) {
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v3", failOn: map[Target]error{w1: errors.New("boom")}}
	_, err := (&Runner{Deployer: f}).Deploy(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, ParallelRoles: true}), "v3")
	if err == nil {
		t.Fatal("want error")
	}
	if fmt.Sprint(f.calls) != "[deploy h1/web]" {
		t.Fatalf("other hosts touched after primary failed: %v", f.calls)
	}
}

func TestCancelRollsBackWithFreshContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v2", cancelOn: j3, cancel: cancel}
	_, err := (&Runner{Deployer: f}).Deploy(ctx, NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v2")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled in chain, got %v", err)
	}
	for _, tg := range all {
		if f.live[tg] != "v1" {
			t.Fatalf("%s left on %s after Ctrl-C", tg, f.live[tg])
		}
	}
}

// A Ctrl-C during the primary's drain: its sidecar still reports the old
// version while the cancelled swap winds down, but the cutover was seen, so
// the primary rolls back with the fleet instead of finishing on the new one.
func TestCancelAfterReportedCutoverRollsBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v2", cancelOn: w1, cancel: cancel, lateCutover: true}
	_, err := (&Runner{Deployer: f}).Deploy(ctx, NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v2")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled in chain, got %v", err)
	}
	if !slices.Contains(f.calls, "rollback "+w1.String()+" v1") {
		t.Errorf("calls %v: the primary switched (cutover reported) and must roll back", f.calls)
	}
}

func TestBootWaitBetweenBatches(t *testing.T) {
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v2"}
	start := time.Now()
	_, err := (&Runner{Deployer: f, BootWait: 50 * time.Millisecond}).Deploy(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v2")
	if err != nil {
		t.Fatal(err)
	}
	// primary, batch 1 (h2), batch 2 (h3): one wait before batch 2.
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Fatalf("boot.wait not honoured: %v", el)
	}
}

func TestRollbackFleet(t *testing.T) {
	f := &fakeDeployer{live: fleetOf(all, "v2")}
	_, err := (&Runner{Deployer: f}).Rollback(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, ParallelRoles: true}), "v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range all {
		if f.live[tg] != "v1" {
			t.Fatalf("%s on %s", tg, f.live[tg])
		}
	}
}

// A swap cancelled after its cutover returns an error while green serves;
// that host must roll back with the others or the fleet stays mixed.
func TestCancelAfterCutoverRollsThatHostBackToo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v2", cancelOn: j3, cancel: cancel, afterCutover: true}
	_, err := (&Runner{Deployer: f}).Deploy(ctx, NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v2")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled in chain, got %v", err)
	}
	for _, tg := range all {
		if f.live[tg] != "v1" {
			t.Fatalf("%s left on %s after Ctrl-C during drain: %v", tg, f.live[tg], f.live)
		}
	}
	if !slices.Contains(f.calls, "rollback "+j3.String()+" v1") {
		t.Errorf("the cancelled host was not rolled back: %v", f.calls)
	}
}

// A failed host that still serves the old version is not rolled back.
func TestFailureBeforeCutoverIsNotRolledBack(t *testing.T) {
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v4", failOn: map[Target]error{j3: errors.New("never healthy")}}
	if _, err := (&Runner{Deployer: f}).Deploy(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v4"); err == nil {
		t.Fatal("deploy succeeded")
	}
	if slices.Contains(f.calls, "rollback "+j3.String()+" v1") {
		t.Errorf("a host that never switched was rolled back: %v", f.calls)
	}
}

// TestFailedRollbackLeavesOneVersion: a rollback that fails on one host
// (its sidecar killed mid-swap, in the chaos soak) returns the hosts that
// had switched to what they served before, so the fleet is not left split.
func TestFailedRollbackLeavesOneVersion(t *testing.T) {
	f := &fakeDeployer{live: fleetOf(all, "v2"), rollbackFails: map[Target]error{j3: errors.New("progress stream ended without a result")}}
	rep, err := (&Runner{Deployer: f}).Rollback(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, ParallelRoles: true}), "v1")
	if err == nil {
		t.Fatal("the rollback succeeded")
	}
	for _, tg := range all {
		if f.live[tg] != "v2" {
			t.Errorf("%s left on %s after a failed rollback: %v (calls %v)", tg, f.live[tg], f.live, f.calls)
		}
	}
	for _, o := range rep.Outcomes {
		want := StatusUndone
		if o.Target == j3 {
			want = StatusFailed
		}
		if o.Status != want {
			t.Errorf("%s: %s, want %s", o.Target, o.Status, want)
		}
	}
}

// TestCancelledRollbackLeavesOneVersion: a Ctrl-C during a rollback, after
// the primary switched and while the next batch's swap was past its
// cutover, returns every switched host to what it served before, since not
// every host had switched; a Ctrl-C once every host had switched undoes
// nothing.
func TestCancelledRollbackLeavesOneVersion(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeDeployer{live: fleetOf(all, "v2"), cancelOn: w2, cancel: cancel}
	rep, err := (&Runner{Deployer: f}).Rollback(ctx, NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	for _, tg := range all {
		if f.live[tg] != "v2" {
			t.Errorf("%s left on %s after a cancelled rollback: %v (calls %v)", tg, f.live[tg], f.live, f.calls)
		}
	}
	undone := 0
	for _, o := range rep.Outcomes {
		if o.Status == StatusUndone && o.Previous == "v2" {
			undone++
		}
	}
	if undone != 2 {
		t.Errorf("outcomes %+v, want h1 and h2 undone to v2", rep.Outcomes)
	}

	// Every host switched before the cancel: nothing to undo.
	ctx, cancel = context.WithCancel(context.Background())
	f = &fakeDeployer{live: fleetOf([]Target{w1}, "v2"), cancelOn: w1, cancel: cancel}
	if _, err := (&Runner{Deployer: f}).Rollback(ctx, NewPlan(PlanOptions{Targets: []Target{w1}, Primary: w1}), "v1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if f.live[w1] != "v1" || slices.Contains(f.calls, "rollback "+w1.String()+" v2") {
		t.Errorf("a rollback cancelled once every host switched was undone: %v, calls %v", f.live, f.calls)
	}
}

// A Ctrl-C during a rollback's drain on the second batch: that host's
// sidecar still reports the version it left while the cancelled swap winds
// down, but its cutover was reported, so the undo returns it with the
// primary (the chaos soak, cycle 36: one host left on the rollback's target).
func TestCancelledRollbackAfterReportedCutoverIsUndone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeDeployer{live: fleetOf(all, "v2"), cancelOn: w2, cancel: cancel, lateCutover: true}
	_, err := (&Runner{Deployer: f}).Rollback(ctx, NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if !slices.Contains(f.calls, "rollback "+w2.String()+" v2") {
		t.Errorf("calls %v: h2 reported its cutover and must be undone", f.calls)
	}
	for _, tg := range all {
		if v, _ := f.LiveVersion(ctx, tg); v != "v2" {
			t.Errorf("%s serves %s after the cancelled rollback, want v2 (calls %v)", tg, v, f.calls)
		}
	}
}

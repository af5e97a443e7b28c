package fleet

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// servingDeployer behaves like a sidecar that reports its cutover before
// it drains: each target serves the new version, says so, then holds in
// its drain until release is closed. tailErr fails a target's drain.
type servingDeployer struct {
	fakeDeployer
	release chan struct{}
	tailErr map[Target]error
	smu     sync.Mutex
	started []Target
	// servingSeen are the targets that had signalled serving when each
	// target started.
	servingSeen map[Target][]Target
	serving     []Target
	// doneSeen are the targets whose operation had returned when each
	// target started.
	doneSeen map[Target][]Target
	done     []Target
}

func (f *servingDeployer) begin(t Target) {
	f.smu.Lock()
	defer f.smu.Unlock()
	f.started = append(f.started, t)
	if f.servingSeen == nil {
		f.servingSeen = map[Target][]Target{}
	}
	f.servingSeen[t] = slices.Clone(f.serving)
	if f.doneSeen == nil {
		f.doneSeen = map[Target][]Target{}
	}
	f.doneSeen[t] = slices.Clone(f.done)
}

func (f *servingDeployer) served(t Target, serving func()) {
	f.smu.Lock()
	f.serving = append(f.serving, t)
	f.smu.Unlock()
	serving()
}

func (f *servingDeployer) DeployServing(ctx context.Context, t Target, serving func()) error {
	f.begin(t)
	if err := f.Deploy(ctx, t); err != nil {
		return err
	}
	f.served(t, serving)
	return f.drain(ctx, t)
}

func (f *servingDeployer) RollbackServing(ctx context.Context, t Target, v string, serving func()) error {
	f.begin(t)
	if err := f.Rollback(ctx, t, v); err != nil {
		return err
	}
	f.served(t, serving)
	return f.drain(ctx, t)
}

func (f *servingDeployer) drain(ctx context.Context, t Target) error {
	defer func() {
		f.smu.Lock()
		defer f.smu.Unlock()
		f.done = append(f.done, t)
	}()
	select {
	case <-f.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return f.tailErr[t]
}

// releaseWhenStarted closes f.release once n targets have started, so the
// drains of earlier stages end only after later stages began; it gives up
// after a deadline so a runner that waits for drains still finishes (and
// the test then fails on the order it saw).
func (f *servingDeployer) releaseWhenStarted(n int) {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		f.smu.Lock()
		k := len(f.started)
		f.smu.Unlock()
		if k >= n {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(f.release)
}

// chain is three stages: the primary h1/web, then h2's roles one after
// another (web, then job).
var (
	j2    = Target{"h2", "job"}
	chain = []Target{w1, w2, j2}
)

func TestNextStageStartsOnceThePreviousServes(t *testing.T) {
	f := &servingDeployer{fakeDeployer: fakeDeployer{live: fleetOf(chain, "v1"), version: "v2"}, release: make(chan struct{})}
	go f.releaseWhenStarted(len(chain))
	r := &Runner{Deployer: f}
	// Primary w1, then h2 boots web, then job: three stages.
	rep, err := r.Deploy(context.Background(), NewPlan(PlanOptions{Targets: chain, Primary: w1}), "v2")
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if !slices.Equal(f.started, chain) {
		t.Fatalf("started %v, want %v", f.started, chain)
	}
	// Every stage began while the primary was still draining (release is
	// closed only once all three started), after the stage before served.
	if got := f.servingSeen[w2]; !slices.Contains(got, w1) {
		t.Errorf("w2 started before w1 served (serving then: %v)", got)
	}
	if got := f.servingSeen[j2]; !slices.Contains(got, w2) {
		t.Errorf("j2 started before w2 served (serving then: %v)", got)
	}
	if got := f.doneSeen[j2]; len(got) > 0 {
		t.Errorf("j2 started only after %v finished their drains, want it to start while they drain", got)
	}
	for _, o := range rep.Outcomes {
		if o.Status != StatusDeployed {
			t.Errorf("%s: status %q, want %q", o.Target, o.Status, StatusDeployed)
		}
	}
}

var errDrain = errors.New("stop the old container failed")

func TestAFailedDrainRollsBackLaterStagesToo(t *testing.T) {
	f := &servingDeployer{fakeDeployer: fakeDeployer{live: fleetOf(chain, "v1"), version: "v2"}, release: make(chan struct{}),
		tailErr: map[Target]error{w1: errDrain}}
	go f.releaseWhenStarted(len(chain))
	r := &Runner{Deployer: f}
	_, err := r.Deploy(context.Background(), NewPlan(PlanOptions{Targets: chain, Primary: w1}), "v2")
	if !errors.Is(err, errDrain) {
		t.Fatalf("err = %v, want the primary's drain failure", err)
	}
	// The fake serves v2 on w1 although its deploy failed (as a sidecar
	// whose stop failed after the cutover): the runner asks, and rolls
	// back every target, the later stages' included.
	for _, tg := range chain {
		if v := f.live[tg]; v != "v1" {
			t.Errorf("%s serves %q after the failed deploy, want v1", tg, v)
		}
	}
}

func TestRollbackStagesOverlapByTheirStops(t *testing.T) {
	f := &servingDeployer{fakeDeployer: fakeDeployer{live: fleetOf(chain, "v2")}, release: make(chan struct{})}
	go f.releaseWhenStarted(len(chain))
	r := &Runner{Deployer: f}
	rep, err := r.Rollback(context.Background(), NewPlan(PlanOptions{Targets: chain, Primary: w1}), "v1")
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if got := f.servingSeen[j2]; !slices.Contains(got, w2) || !slices.Contains(got, w1) {
		t.Errorf("j2 started before w1 and w2 served (serving then: %v)", got)
	}
	if got := f.doneSeen[j2]; len(got) > 0 {
		t.Errorf("j2 started only after %v finished, want it to start while they stop the newer containers", got)
	}
	if len(rep.Outcomes) != len(chain) {
		t.Fatalf("outcomes %v, want one per target", rep.Outcomes)
	}
	for _, o := range rep.Outcomes {
		if o.Status != StatusRolledBack || o.Previous != "v2" {
			t.Errorf("%s: status %q previous %q, want rolled back from v2", o.Target, o.Status, o.Previous)
		}
	}
}

func TestAStageWaitsForATargetThatNeverSaysItServes(t *testing.T) {
	// A plain Deployer: each stage waits for the whole swap.
	f := &fakeDeployer{live: fleetOf(chain, "v1"), version: "v2"}
	r := &Runner{Deployer: f}
	if _, err := r.Deploy(context.Background(), NewPlan(PlanOptions{Targets: chain, Primary: w1}), "v2"); err != nil {
		t.Fatal(err)
	}
	want := []string{"deploy h1/web", "deploy h2/web", "deploy h2/job"}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls %v, want %v", f.calls, want)
	}
}

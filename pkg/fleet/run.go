package fleet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Deployer is what the orchestrator needs from each host's sidecar.
type Deployer interface {
	// Deploy swaps target to the new version and returns once it serves it
	// (or failed, leaving the previous version serving).
	Deploy(ctx context.Context, t Target) error
	// Rollback swaps target back to a retained version.
	Rollback(ctx context.Context, t Target, version string) error
	// LiveVersion is the version the target serves now, "" for none.
	LiveVersion(ctx context.Context, t Target) (string, error)
}

// Reporter receives progress; it must be safe for concurrent use.
type Reporter interface {
	Event(t Target, phase, status string, d time.Duration, err error)
}

// Defaults for fleet runs.
const (
	// RollbackTimeout bounds the fleet rollback after a failure or Ctrl-C;
	// it runs on a fresh context so a cancelled command still cleans up.
	RollbackTimeout = 5 * time.Minute
	// LiveCheckTimeout bounds asking a failed host what it serves before
	// the fleet rollback.
	LiveCheckTimeout = 10 * time.Second
)

// Statuses of an Outcome.
const (
	StatusNotStarted     = "not started"
	StatusDeployed       = "deployed"
	StatusFailed         = "failed"
	StatusRolledBack     = "rolled back"
	StatusRollbackFailed = "rollback failed"
	// StatusUnchanged is a switched target that had no other version to
	// return to.
	StatusUnchanged = "unchanged"
	// StatusUndone is a target of a cancelled rollback returned to the
	// version it served before (Previous).
	StatusUndone = "undone"
)

// Outcome is what happened to one target.
type Outcome struct {
	Target   Target
	Previous string
	// Status is one of the Status constants.
	Status   string
	Err      error
	Duration time.Duration
}

// Report is the result of a fleet operation.
type Report struct {
	Version  string
	Outcomes []Outcome
	Duration time.Duration
}

// Runner executes plans.
type Runner struct {
	Deployer Deployer
	Reporter Reporter
	// BootWait is slept between batches (boot.wait); cancelled by ctx.
	BootWait time.Duration
	// Hooks run around each boot group; nil for none.
	Hooks BootHooks
}

// Error says the fleet operation failed and what was undone.
type Error struct {
	Failed []Outcome
	// RolledBack lists targets returned to their previous version.
	RolledBack []Target
	// Stuck lists targets that could not be returned; they need attention.
	Stuck []Outcome
	Cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %v", f.Target, f.Err)
	}
	if len(e.Failed) == 0 && e.Cause != nil {
		b.WriteString(e.Cause.Error())
	}
	if len(e.RolledBack) > 0 {
		var ts []string
		for _, t := range e.RolledBack {
			ts = append(ts, t.String())
		}
		fmt.Fprintf(&b, " (rolled back %s to the previous version)", strings.Join(ts, ", "))
	}
	for _, s := range e.Stuck {
		fmt.Fprintf(&b, "; ROLLBACK FAILED on %s: %v", s.Target, s.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Cause }

// Deploy runs the plan. Before anything is swapped it records each target's
// live version; if any target fails (or ctx is cancelled), no further stage
// starts, and every target already switched is rolled back.
func (r *Runner) Deploy(ctx context.Context, p Plan, version string) (*Report, error) {
	start := time.Now()
	rep := &Report{Version: version}
	targets := p.Targets()
	outcomes, err := r.previousVersions(ctx, targets)
	if err != nil {
		return rep, err
	}
	failed, cause := r.runStages(ctx, p, outcomes)
	if len(failed) > 0 || cause != nil {
		if cause == nil {
			cause = failed[0].Err
		}
		err = r.undo(ctx, targets, outcomes, version, &Error{Failed: failed, Cause: cause})
	}
	rep.Outcomes = ordered(targets, outcomes)
	rep.Duration = time.Since(start)
	return rep, err
}

// previousVersions records each target's live version, the one a failed
// deploy returns it to, in an outcome that has not started. The targets
// are asked at once.
func (r *Runner) previousVersions(ctx context.Context, targets []Target) (map[Target]*Outcome, error) {
	live, errs := r.liveVersions(ctx, targets)
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("read live version of %s: %w", targets[i], err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	outcomes := make(map[Target]*Outcome, len(targets))
	for i, t := range targets {
		outcomes[t] = &Outcome{Target: t, Previous: live[i], Status: StatusNotStarted}
	}
	return outcomes, nil
}

// runStages deploys the plan's stages in order, each stage's targets at
// once, and stops after a stage where a target failed or when ctx ends
// (its error is the cause). A stage starts once every target of the one
// before serves the new version (see ServingDeployer); it returns when
// every started target has finished.
func (r *Runner) runStages(ctx context.Context, p Plan, outcomes map[Target]*Outcome) (failed []Outcome, cause error) {
	var tl tails
	defer tl.wait()
	finished := func(t Target, d time.Duration, err error) {
		o := outcomes[t]
		o.Duration = d
		if err != nil {
			o.Status, o.Err = StatusFailed, err
			failed = append(failed, *o)
			r.report(t, "deploy", "failed", d, err)
			return
		}
		o.Status = StatusDeployed
		r.report(t, "deploy", "done", d, nil)
	}
	anyFailed := func() bool {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		return len(failed) > 0
	}
	var group []string
	for i, stage := range p.Stages {
		if err := r.stageGate(ctx, p, i, &group); err != nil {
			tl.wait()
			return failed, err
		}
		for _, t := range stage.Targets {
			r.report(t, "deploy", "started", 0, nil)
		}
		r.runStage(ctx, stage.Targets, r.deployOp(), &tl, finished)
		if anyFailed() {
			tl.wait()
			return failed, nil
		}
		if p.closesGroup(i) {
			// post-app-boot sees its group fully booted, as in Kamal.
			tl.wait()
			if len(failed) > 0 {
				return failed, nil
			}
			if err := r.afterStage(ctx, p, i, group); err != nil {
				return nil, err
			}
		}
	}
	tl.wait()
	return failed, nil
}

// stageGate is what comes before stage i: boot.wait between batches, the
// cancellation check and the pre-app-boot hook of a group.
func (r *Runner) stageGate(ctx context.Context, p Plan, i int, group *[]string) error {
	if p.Stages[i].WaitBefore && r.BootWait > 0 {
		if err := sleepCtx(ctx, r.BootWait); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.beforeStage(ctx, p, i, group)
}

// ErrFailedAfterCutover marks a deploy or rollback error that came after
// the host reported its cutover: green was routed, so the host counts as
// switched even while its sidecar, still winding down the cancelled swap,
// reports the version it left.
var ErrFailedAfterCutover = errors.New("failed after its cutover")

// servesNew reports whether a target whose deploy failed serves version
// anyway: a swap cancelled or failing after its cutover leaves green
// routed, and that host must roll back with the others. A host that cannot
// say (cut off) is left as failed; it never switched as far as we know.
func (r *Runner) servesNew(ctx context.Context, t Target, version string) bool {
	ctx, cancel := context.WithTimeout(ctx, LiveCheckTimeout)
	defer cancel()
	live, err := r.Deployer.LiveVersion(ctx, t)
	return err == nil && live == version
}

// undo returns every target the deploy switched to its previous version,
// all at once, and says so in fe. It runs on a fresh context: a cancelled
// command still has to leave the fleet on one version.
func (r *Runner) undo(ctx context.Context, targets []Target, outcomes map[Target]*Outcome, version string, fe *Error) *Error {
	rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RollbackTimeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range targets {
		o := outcomes[t]
		if o.Status != StatusDeployed && o.Status != StatusFailed {
			continue
		}
		if o.Previous == "" || o.Previous == version {
			if o.Status == StatusDeployed {
				o.Status = StatusUnchanged
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o.Status == StatusFailed && !errors.Is(o.Err, ErrFailedAfterCutover) && !r.servesNew(rbCtx, t, version) {
				return
			}
			t0 := time.Now()
			r.report(t, "rollback", "started", 0, nil)
			err := r.Deployer.Rollback(rbCtx, t, o.Previous)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				o.Status, o.Err = StatusRollbackFailed, err
				fe.Stuck = append(fe.Stuck, *o)
				r.report(t, "rollback", "failed", time.Since(t0), err)
				return
			}
			o.Status = StatusRolledBack
			fe.RolledBack = append(fe.RolledBack, t)
			r.report(t, "rollback", "done", time.Since(t0), nil)
		}()
	}
	wg.Wait()
	sortTargets(fe.RolledBack)
	return fe
}

// Rollback returns every target to version, all stages of the plan in order
// (primary first). Like a deploy it is all or nothing: when it fails on a
// host or is cancelled before every host switched, the hosts that switched
// go back to what they served before, so the fleet serves one version.
func (r *Runner) Rollback(ctx context.Context, p Plan, version string) (*Report, error) {
	start := time.Now()
	rep := &Report{Version: version}
	errs := r.rollbackStages(ctx, p, version, rep)
	if ctx.Err() != nil || len(errs) > 0 {
		r.undoRollback(ctx, p, rep, version)
	}
	rep.Duration = time.Since(start)
	return rep, errors.Join(errs...)
}

// rollbackStages runs the rollback's stages in order, each one once the one
// before serves version (see ServingDeployer), until one fails; it returns
// when every started target has finished.
func (r *Runner) rollbackStages(ctx context.Context, p Plan, version string, rep *Report) (errs []error) {
	var tl tails
	defer tl.wait()
	prev := map[Target]string{}
	finished := func(t Target, d time.Duration, err error) {
		o := Outcome{Target: t, Previous: prev[t], Status: StatusRolledBack, Duration: d}
		if err != nil {
			o.Status, o.Err = StatusFailed, err
			errs = append(errs, fmt.Errorf("%s: %w", t, err))
			r.report(t, "rollback", "failed", d, err)
		} else {
			r.report(t, "rollback", "done", d, nil)
		}
		rep.Outcomes = append(rep.Outcomes, o)
	}
	anyFailed := func() bool {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		return len(errs) > 0
	}
	op := r.rollbackOp(version)
	var group []string
	for i, stage := range p.Stages {
		if err := ctx.Err(); err != nil {
			tl.wait()
			return append(errs, err)
		}
		if err := r.beforeStage(ctx, p, i, &group); err != nil {
			tl.wait()
			return append(errs, err)
		}
		r.livePrevious(ctx, stage.Targets, &tl, prev)
		for _, t := range stage.Targets {
			r.report(t, "rollback", "started", 0, nil)
		}
		r.runStage(ctx, stage.Targets, op, &tl, finished)
		if anyFailed() {
			break
		}
		if p.closesGroup(i) {
			tl.wait()
			if len(errs) > 0 {
				break
			}
			if err := r.afterStage(ctx, p, i, group); err != nil {
				return append(errs, err)
			}
		}
	}
	tl.wait()
	return errs
}

// livePrevious records what each target serves before its rollback (the
// version an undo returns it to), all at once.
func (r *Runner) livePrevious(ctx context.Context, targets []Target, tl *tails, prev map[Target]string) {
	ctx, cancel := context.WithTimeout(ctx, LiveCheckTimeout)
	defer cancel()
	live, errs := r.liveVersions(ctx, targets)
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for i, t := range targets {
		if errs[i] == nil {
			prev[t] = live[i] // a target that cannot say has none ("")
		}
	}
}

// liveVersions asks every target what it serves, all at once.
func (r *Runner) liveVersions(ctx context.Context, targets []Target) ([]string, []error) {
	live := make([]string, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			live[i], errs[i] = r.Deployer.LiveVersion(ctx, t)
		}()
	}
	wg.Wait()
	return live, errs
}

func (r *Runner) report(t Target, phase, status string, d time.Duration, err error) {
	if r.Reporter != nil {
		r.Reporter.Event(t, phase, status, d, err)
	}
}

func ordered(targets []Target, m map[Target]*Outcome) []Outcome {
	out := make([]Outcome, 0, len(targets))
	for _, t := range targets {
		out = append(out, *m[t])
	}
	return out
}

func sortTargets(ts []Target) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].String() < ts[j].String() })
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// undoRollback leaves the fleet of a failed or cancelled rollback on one
// version: unless every target had switched to version, each one that did
// (a swap cut short after its cutover serves version too) goes back to the
// version it served before, all at once, on a fresh context.
func (r *Runner) undoRollback(ctx context.Context, p Plan, rep *Report, version string) {
	rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RollbackTimeout)
	defer cancel()
	switched := make([]bool, len(rep.Outcomes))
	all := len(rep.Outcomes) == len(p.Targets())
	for i, o := range rep.Outcomes {
		switched[i] = o.Status == StatusRolledBack || (o.Status == StatusFailed &&
			(errors.Is(o.Err, ErrFailedAfterCutover) || r.servesNew(rbCtx, o.Target, version)))
		all = all && switched[i]
	}
	if all {
		return
	}
	var wg sync.WaitGroup
	for i := range rep.Outcomes {
		o := &rep.Outcomes[i]
		if !switched[i] || o.Previous == "" || o.Previous == version {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			r.report(o.Target, "undo", "started", 0, nil)
			if err := r.Deployer.Rollback(rbCtx, o.Target, o.Previous); err != nil {
				o.Status, o.Err = StatusRollbackFailed, err
				r.report(o.Target, "undo", "failed", time.Since(t0), err)
				return
			}
			o.Status, o.Err = StatusUndone, nil
			r.report(o.Target, "undo", "done", time.Since(t0), nil)
		}()
	}
	wg.Wait()
}

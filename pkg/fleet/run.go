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

// Swapper is what the orchestrator needs from one host's sidecar.
type Swapper interface {
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
)

// Outcome is what happened to one target.
type Outcome struct {
	Target   Target
	Previous string
	// Status is one of "deployed", "failed", "rolled back", "rollback failed",
	// "not started", "unchanged".
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
	Swapper  Swapper
	Reporter Reporter
	// BootWait is slept between batches (boot.wait); cancelled by ctx.
	BootWait time.Duration
}

// FleetError says the fleet operation failed and what was undone.
type FleetError struct {
	Failed []Outcome
	// RolledBack lists targets returned to their previous version.
	RolledBack []Target
	// Stuck lists targets that could not be returned; they need attention.
	Stuck []Outcome
	Cause error
}

func (e *FleetError) Error() string {
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

func (e *FleetError) Unwrap() error { return e.Cause }

// Deploy runs the plan. Before anything is swapped it records each target's
// live version; if any target fails (or ctx is cancelled), no further stage
// starts, and every target already switched is rolled back.
func (r *Runner) Deploy(ctx context.Context, p Plan, version string) (*Report, error) {
	start := time.Now()
	rep := &Report{Version: version}
	targets := p.Targets()
	previous := make(map[Target]string, len(targets))
	for _, t := range targets {
		v, err := r.Swapper.LiveVersion(ctx, t)
		if err != nil {
			return rep, fmt.Errorf("read live version of %s: %w", t, err)
		}
		previous[t] = v
	}

	outcomes := map[Target]*Outcome{}
	for _, t := range targets {
		outcomes[t] = &Outcome{Target: t, Previous: previous[t], Status: "not started"}
	}
	var failed []Outcome
	var cause error
	for _, stage := range p.Stages {
		if stage.WaitBefore && r.BootWait > 0 {
			if err := sleepCtx(ctx, r.BootWait); err != nil {
				cause = err
				break
			}
		}
		if err := ctx.Err(); err != nil {
			cause = err
			break
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, t := range stage.Targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				r.report(t, "deploy", "started", 0, nil)
				err := r.Swapper.Deploy(ctx, t)
				d := time.Since(t0)
				mu.Lock()
				defer mu.Unlock()
				o := outcomes[t]
				o.Duration = d
				if err != nil {
					o.Status, o.Err = "failed", err
					failed = append(failed, *o)
					r.report(t, "deploy", "failed", d, err)
					return
				}
				o.Status = "deployed"
				r.report(t, "deploy", "done", d, nil)
			}()
		}
		wg.Wait()
		if len(failed) > 0 {
			break
		}
	}
	if len(failed) == 0 && cause == nil {
		rep.Outcomes = ordered(targets, outcomes)
		rep.Duration = time.Since(start)
		return rep, nil
	}
	if cause == nil {
		cause = failed[0].Err
	}
	fe := &FleetError{Failed: failed, Cause: cause}
	// A cancelled command still has to leave the fleet on one version.
	rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RollbackTimeout)
	defer cancel()
	var switched []Target
	for _, t := range targets {
		if outcomes[t].Status == "deployed" {
			switched = append(switched, t)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range switched {
		o := outcomes[t]
		if o.Previous == "" || o.Previous == version {
			o.Status = "unchanged"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			r.report(t, "rollback", "started", 0, nil)
			err := r.Swapper.Rollback(rbCtx, t, o.Previous)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				o.Status, o.Err = "rollback failed", err
				fe.Stuck = append(fe.Stuck, *o)
				r.report(t, "rollback", "failed", time.Since(t0), err)
				return
			}
			o.Status = "rolled back"
			fe.RolledBack = append(fe.RolledBack, t)
			r.report(t, "rollback", "done", time.Since(t0), nil)
		}()
	}
	wg.Wait()
	sortTargets(fe.RolledBack)
	rep.Outcomes = ordered(targets, outcomes)
	rep.Duration = time.Since(start)
	return rep, fe
}

// Rollback returns every target to version, all stages of the plan in order
// (primary first) but without undo: a rollback that fails on one host is
// reported, and the others keep the version they reached.
func (r *Runner) Rollback(ctx context.Context, p Plan, version string) (*Report, error) {
	start := time.Now()
	rep := &Report{Version: version}
	var errs []error
	for _, stage := range p.Stages {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, t := range stage.Targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				r.report(t, "rollback", "started", 0, nil)
				err := r.Swapper.Rollback(ctx, t, version)
				d := time.Since(t0)
				mu.Lock()
				defer mu.Unlock()
				o := Outcome{Target: t, Status: "rolled back", Duration: d}
				if err != nil {
					o.Status, o.Err = "failed", err
					errs = append(errs, fmt.Errorf("%s: %w", t, err))
					r.report(t, "rollback", "failed", d, err)
				} else {
					r.report(t, "rollback", "done", d, nil)
				}
				rep.Outcomes = append(rep.Outcomes, o)
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			break
		}
	}
	rep.Duration = time.Since(start)
	return rep, errors.Join(errs...)
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

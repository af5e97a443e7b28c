package swap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// run is one execution of a plan: what its steps share.
type run struct {
	e     *Engine
	d     *contract.Deploy
	plan  *Plan
	emit  func(contract.Event)
	log   *slog.Logger
	res   *Result
	start time.Time

	// green is the container that will serve, once created or adopted.
	green docker.Container
	// greenWasRunning: a rollback's target ran before the rollback began,
	// so a failure leaves it running.
	greenWasRunning bool
	healthyAt       time.Time
	// routed is set once the proxy may route to green.
	routed bool
	// greenLogs are a failed green's last log lines (redacted).
	greenLogs string
	// assetsDir is the directory green mounts at its asset path.
	assetsDir string
	// warmVersions are the versions of the containers keep-warm kept.
	warmVersions []string
}

func (e *Engine) newRun(d *contract.Deploy, p *Plan, emit func(contract.Event)) *run {
	if emit == nil {
		emit = func(contract.Event) {}
	}
	return &run{
		e: e, d: d, plan: p, emit: emit,
		log: e.logger().With("component", "swap", "kind", p.Kind, "service", d.Service,
			"destination", d.Destination, "role", d.Role, "version", d.Version),
		res: &Result{Kind: p.Kind, Version: d.Version, Container: p.Green, Previous: containerNames(p.Blue), Plan: p},
	}
}

// execute runs the plan's steps in order. Before cutover a failure undoes
// green; after it, failures are warnings.
func (r *run) execute(ctx context.Context) (*Result, error) {
	r.start = time.Now()
	r.log.Info("swap starting", "plan", r.plan.Names())
	for _, st := range r.plan.Steps {
		_, isCutover := st.(cutover)
		postCutover := r.routed && !isCutover
		if err := ctx.Err(); err != nil {
			return r.abort(ctx, st, err)
		}
		err := r.step(ctx, st)
		if err == nil {
			continue
		}
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return r.abort(ctx, st, err)
		}
		if postCutover {
			r.res.Warnings = append(r.res.Warnings, st.Name()+": "+err.Error())
			r.log.Warn("step failed after cutover", "step", st.Name(), "err", err)
			continue
		}
		return nil, r.fail(st, err)
	}
	r.res.Total = time.Since(r.start)
	r.log.Info("swap done", "container", r.res.Container, "healthy", r.res.Healthy, "cutover", r.res.Cutover, "total", r.res.Total)
	return r.res, nil
}

// step executes st between its start and its done or fail event.
func (r *run) step(ctx context.Context, st Step) error {
	r.transition(st, contract.EventStart, "", 0)
	t0 := time.Now()
	err := st.Execute(ctx, r)
	if err != nil {
		r.transition(st, contract.EventFail, err.Error(), time.Since(t0))
		return err
	}
	r.transition(st, contract.EventDone, "", time.Since(t0))
	return nil
}

func (r *run) transition(st Step, status, msg string, dur time.Duration) {
	r.emit(contract.Event{Time: time.Now().UTC(), Step: st.Name(), Status: status, Container: st.Container(),
		Message: msg, Elapsed: contract.Duration(dur)})
}

// fail handles a failure before or at cutover: the proxy goes back to
// blue, green is stopped and kept, and the error carries its logs.
func (r *run) fail(st Step, err error) error {
	if uerr := r.undo(r.undoPlan(false)); uerr != nil {
		err = errors.Join(err, uerr)
	}
	r.pruneAfterFailure()
	r.log.Error("swap failed", "step", st.Name(), "err", err)
	return &StepError{Step: st.Name(), Container: r.plan.Green, Logs: r.greenLogs, Err: err}
}

// abort handles a cancelled context: stop quietly, leave the host serving.
// Before the proxy may route to green, green is stopped; after, green
// serves and blue keeps running, kept warm (see keepBlueWarm).
func (r *run) abort(ctx context.Context, st Step, err error) (*Result, error) {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	r.log.Warn("swap cancelled", "step", st.Name(), "routed", r.routed)
	if uerr := r.undo(r.undoPlan(true)); uerr != nil {
		err = errors.Join(err, uerr)
	}
	if !r.routed {
		r.pruneAfterFailure()
		return nil, &StepError{Step: st.Name(), Container: r.plan.Green, Err: err}
	}
	r.keepBlueWarm()
	r.pruneAfterFailure()
	r.res.Total = time.Since(r.start)
	return r.res, &StepError{Step: st.Name(), Container: r.plan.Green, Err: err}
}

// pruneAfterFailure applies a deploy's retention once its green was stopped
// and kept, or once a swap cancelled after its cutover stopped what was
// warm before: otherwise every such swap would leave one more container
// than retain_containers. A kept green counts as one of them and is never
// removed. A failure here is only logged: the swap's own error matters.
func (r *run) pruneAfterFailure() {
	if r.green.ID == "" {
		return
	}
	for _, st := range r.plan.Steps {
		p, ok := st.(prune)
		if !ok {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		p.countGreen = true
		if err := p.Execute(ctx, r); err != nil {
			r.log.Warn("prune after the failed swap", "err", err)
		}
		if len(r.res.Pruned) > 0 {
			r.log.Info("pruned after the failed swap", "containers", r.res.Pruned)
		}
		return
	}
}

// keepBlueWarm settles a swap cancelled after its cutover: green serves and
// blue still runs out of rotation, so a plugin that is still there can route
// back to it at once. Left alone (the plugin killed, say), blue would run
// beside green for good, with whatever was warm before: so blue is kept
// warm as the finished swap would have kept it, for keep_warm or, with none,
// for the drain timeout, after which the sidecar stops it, and the
// containers warm before are stopped now. Failures are logged only: the
// host serves either way.
func (r *run) keepBlueWarm() {
	var kw *keepWarm
	var drained []docker.Container
	for _, st := range r.plan.Steps {
		switch s := st.(type) {
		case keepWarm:
			kw = &s
		case drainBlue:
			drained = s.blue
		}
	}
	if kw == nil || r.e.Warm == nil {
		return
	}
	k := *kw
	if len(k.keep) == 0 {
		k.keep, k.for_ = drained, r.d.DrainTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if err := k.Execute(ctx, r); err != nil {
		r.log.Warn("keep blue warm after the cancelled swap", "err", err)
	}
}

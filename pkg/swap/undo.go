package swap

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Undo step names. They are logged, never journaled nor streamed.
const (
	undoRouteBack = "route-back"
	undoUnroute   = "unroute"
	undoStopGreen = "stop-green"
	undoReadLogs  = "read-logs"
)

// undoPlan is what leaves blue serving after a swap failed (cancelled
// false) or was cancelled, decided from how far it got:
//
//   - the proxy may route to green: on a failure, route back to blue, or
//     remove the route of a first deploy; on a cancel, nothing at all (green
//     and blue both run, so the proxy points at a running container);
//   - green was started and did not run before the swap: stop it and keep
//     it, and on a failure read its last log lines for the error.
func (r *run) undoPlan(cancelled bool) []Step {
	var steps []Step
	if r.routed {
		if cancelled {
			return nil
		}
		if len(r.plan.Blue) == 0 {
			steps = append(steps, unroute{})
		} else {
			steps = append(steps, routeBack{blue: r.plan.Blue})
		}
	}
	if r.green.ID != "" && !r.greenWasRunning {
		steps = append(steps, stopGreen{green: r.green})
		if !cancelled {
			steps = append(steps, readLogs{green: r.green})
		}
	}
	return steps
}

// undo runs steps on a fresh context (ctx may be cancelled already): each
// failure is logged and the next step runs regardless, but for one rule:
// when the proxy could not be pointed away from green, green keeps running,
// so the proxy never routes to a stopped container. That failure is
// returned, wrapping ErrGreenStillRouted.
func (r *run) undo(steps []Step) error {
	if len(steps) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	var stillRouted error
	for _, st := range steps {
		if _, stop := st.(stopGreen); stop && stillRouted != nil {
			r.log.Error("green left running: the proxy still routes to it", "container", r.plan.Green)
			continue
		}
		err := st.Execute(ctx, r)
		if err == nil {
			continue
		}
		r.log.Error("undo step failed", "step", st.Name(), "detail", st.Format(), "err", err)
		switch st.(type) {
		case routeBack, unroute:
			stillRouted = fmt.Errorf("%s: %w: %w", st.Name(), ErrGreenStillRouted, err)
		}
	}
	return stillRouted
}

// routeBack points the proxy at blue again and waits until it serves it.
type routeBack struct {
	blue []docker.Container
}

func (routeBack) Name() string        { return undoRouteBack }
func (s routeBack) Container() string { return containerNames(s.blue) }
func (s routeBack) Format() string    { return "route to " + containerNames(s.blue) }

func (s routeBack) Execute(ctx context.Context, r *run) error {
	blue := servers(r.d, s.blue)
	if err := r.e.Router.Route(ctx, r.d, blue); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, DefaultConfirmTimeout)
	defer cancel()
	return r.e.Router.Confirm(cctx, r.d, blue)
}

// unroute removes the role's routing: a first deploy has no blue to go
// back to.
type unroute struct{}

func (unroute) Name() string      { return undoUnroute }
func (unroute) Container() string { return "" }
func (unroute) Format() string    { return "remove the role's route" }

func (unroute) Execute(ctx context.Context, r *run) error { return r.e.Router.Unroute(ctx, r.d) }

// stopGreen stops the failed green and keeps it for inspection.
type stopGreen struct {
	green docker.Container
}

func (stopGreen) Name() string        { return undoStopGreen }
func (s stopGreen) Container() string { return s.green.Name }
func (s stopGreen) Format() string    { return s.green.Name + " (kept)" }

func (s stopGreen) Execute(ctx context.Context, r *run) error {
	if err := r.e.Docker.Stop(ctx, s.green.ID, failedStopTimeout); err != nil && !docker.IsNotFound(err) {
		return err
	}
	return nil
}

// readLogs keeps the failed green's last log lines, redacted, for the
// swap's error.
type readLogs struct {
	green docker.Container
}

func (readLogs) Name() string        { return undoReadLogs }
func (s readLogs) Container() string { return s.green.Name }
func (s readLogs) Format() string    { return "last log lines of " + s.green.Name }

func (s readLogs) Execute(ctx context.Context, r *run) error {
	logs, err := r.e.Docker.Logs(ctx, s.green.ID, r.e.logTail(r.d))
	if err != nil {
		return err
	}
	r.greenLogs = redactLogs(logs, r.d)
	return nil
}

// redactLogs replaces secret values that a failing app may have printed.
func redactLogs(logs string, d *contract.Deploy) string {
	for _, v := range d.SecretEnv {
		if len(v) >= 4 {
			logs = strings.ReplaceAll(logs, v, contract.Redacted)
		}
	}
	return logs
}

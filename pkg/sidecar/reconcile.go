package sidecar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// Reconcile outcomes (metric labels and audit results).
const (
	outcomeNoop     = "noop"     // nothing to do
	outcomeFinished = "finished" // an interrupted swap was completed
	outcomeUndone   = "undone"   // an interrupted swap was rolled back to blue
	outcomeRestored = "restored" // the live container was started or re-routed
	outcomeFailed   = "failed"   // the role could not be brought to a serving state
)

// reconcileTimeout bounds reconciling one role.
const reconcileTimeout = 3 * time.Minute

// reconcileWithRetries runs Reconcile, then again (after delay, at most
// retries times) while some role could not be brought to a serving state.
func (s *Server) reconcileWithRetries(ctx context.Context, retries int, delay time.Duration) {
	log := s.log.With("component", "reconcile")
	for attempt := 0; ; attempt++ {
		err := s.Reconcile(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		if attempt >= retries {
			log.Error("some roles could not be reconciled; giving up", "attempts", attempt+1, "err", err)
			return
		}
		log.Warn("some roles could not be reconciled; retrying", "attempt", attempt+1, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// Reconcile runs once at start-up: for every journaled role it makes sure
// Traefik points at a running, healthy container of the last successful
// version, finishing a swap interrupted after cutover began (when green is
// healthy) or undoing it (otherwise, and always before cutover). It returns
// the roles it could not fix, joined.
func (s *Server) Reconcile(ctx context.Context) error {
	defer s.markReady()
	log := s.log.With("component", "reconcile")
	var errs []error
	for _, rec := range s.table.list() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		end, err := s.table.begin(rec.Role, actionReconcile)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, reconcileTimeout)
		outcome, err := s.reconcileRole(rctx, s.table.get(rec.Role))
		cancel()
		end()
		s.metrics.Reconciled(outcome)
		cur := s.table.get(rec.Role)
		s.metrics.Live(rec.Role, liveUnlessStopped(cur))
		l := log.With("role", rec.Role.String(), "outcome", outcome, "live", cur.LiveVersion)
		if err != nil {
			l.Error("reconcile", "err", err)
			errs = append(errs, fmt.Errorf("reconcile %s: %w", rec.Role, err))
		} else {
			l.Info("reconciled")
		}
		if outcome != outcomeNoop || err != nil {
			e := contract.AuditEntry{Who: "kamal-sidecar", Action: actionReconcile, What: rec.Role.String() + " " + cur.LiveVersion, Result: outcome}
			if err != nil {
				e.Result = outcomeFailed + ": " + err.Error()
			}
			s.appendAudit(e)
		}
	}
	return errors.Join(errs...)
}

func liveUnlessStopped(rec RoleRecord) string {
	if rec.Stopped {
		return ""
	}
	return rec.LiveVersion
}

// reconcileRole brings one role to a serving state and journals the result.
func (s *Server) reconcileRole(ctx context.Context, rec RoleRecord) (string, error) {
	if rec.Swap != nil && rec.Swap.State == swapRunning {
		outcome, err := s.resumeSwap(ctx, rec)
		s.pruneAfterResume(ctx, rec, outcome)
		return outcome, err
	}
	if rec.Stopped || rec.LiveContainer == "" {
		return outcomeNoop, nil
	}
	changed, err := s.ensureServing(ctx, rec.LiveSpec, rec.LiveContainer)
	if err != nil {
		return outcomeFailed, err
	}
	s.stopStrays(ctx, rec)
	if changed {
		return outcomeRestored, nil
	}
	return outcomeNoop, nil
}

// stopStrays stops the role's running containers that are neither its
// live one nor kept warm: a dockerd restart moments after a swap stopped a
// container can start it again (its restart policy, the stop not yet on
// record), and nothing else would stop it (the chaos soak: a never-healthy
// green running beside the live and the warm container). Failures are
// logged only: the role serves either way.
func (s *Server) stopStrays(ctx context.Context, rec RoleRecord) {
	vs, err := s.deps.Swaps.Versions(ctx, rec.Role)
	if err != nil {
		s.log.Warn("list containers for strays", "role", rec.Role.String(), "err", err)
		return
	}
	keep := map[string]bool{rec.LiveContainer: true}
	if s.deps.warm != nil {
		for _, name := range s.deps.warm.Warm(rec.Role) {
			keep[name] = true
		}
	}
	for _, v := range vs {
		if v.State == docker.StateRunning && !keep[v.Container] {
			s.log.Info("stopping a container that is neither live nor warm", "role", rec.Role.String(), "container", v.Container)
			s.stopQuietly(ctx, rec.LiveSpec, v.Container, "")
		}
	}
}

// resumeSwap settles a swap the sidecar was killed in the middle of.
func (s *Server) resumeSwap(ctx context.Context, rec RoleRecord) (string, error) {
	sw := rec.Swap
	if sw.CutoverBegun && rec.PendingSpec != nil && s.finishSwap(ctx, rec) {
		_, jerr := s.table.update(rec.Role, func(r *RoleRecord) {
			r.LiveVersion, r.LiveContainer, r.LiveSpec, r.PendingSpec = sw.Version, sw.Green, rec.PendingSpec, nil
			r.Swap.State, r.Swap.UpdatedAt = swapFinished, s.now().UTC()
			r.Stopped = false
			r.LastAction, r.LastVersion, r.LastResult, r.LastError, r.LastAt = sw.Action, sw.Version, resultOK, "", s.now().UTC()
		})
		return outcomeFinished, jerr
	}
	// Undo: blue serves (again); green is stopped and kept for its logs.
	var err error
	if sw.Blue != "" && rec.LiveSpec != nil {
		_, err = s.ensureServing(ctx, rec.LiveSpec, sw.Blue)
	}
	if err == nil || sw.Blue == "" {
		s.stopQuietly(ctx, rec.PendingSpec, sw.Green, sw.Blue)
	}
	msg := fmt.Sprintf("%s of %s interrupted at step %q by a sidecar restart; undone", sw.Action, sw.Version, sw.Step)
	_, jerr := s.table.update(rec.Role, func(r *RoleRecord) {
		r.PendingSpec = nil
		r.Swap.State, r.Swap.Error, r.Swap.UpdatedAt = swapUndone, msg, s.now().UTC()
		r.LastAction, r.LastVersion, r.LastResult, r.LastError, r.LastAt = sw.Action, sw.Version, resultFailed, msg, s.now().UTC()
	})
	if err != nil {
		return outcomeFailed, errors.Join(fmt.Errorf("restore %s: %w", sw.Blue, err), jerr)
	}
	return outcomeUndone, jerr
}

// pruneAfterResume applies retention to the role of a swap the sidecar
// settled at start-up: the swap's own prune never ran, so the host would
// keep one stopped container beyond retain_containers until its next swap.
// An undone swap's green is kept (for its logs) and counts as retained. A
// failure is only logged: the role serves either way.
func (s *Server) pruneAfterResume(ctx context.Context, rec RoleRecord, outcome string) {
	d, kept := rec.PendingSpec, ""
	if outcome != outcomeFinished {
		kept = rec.Swap.Green
		if rec.LiveSpec != nil {
			d = rec.LiveSpec
		}
	}
	if d == nil {
		return
	}
	pruned, err := s.deps.Swaps.Prune(ctx, d, kept)
	if err != nil {
		s.log.Warn("prune after reconcile", "role", rec.Role.String(), "err", err)
	}
	if len(pruned) > 0 {
		s.log.Info("pruned after reconcile", "role", rec.Role.String(), "containers", pruned)
	}
}

// finishSwap completes a swap interrupted after cutover began when green
// runs and passes its check: the proxy routes to green and blue stops. It
// reports whether it did.
func (s *Server) finishSwap(ctx context.Context, rec RoleRecord) bool {
	sw, d := rec.Swap, rec.PendingSpec
	green, err := s.inspect(ctx, sw.Green)
	if err != nil || !green.Running() || s.deps.Prober.Check(ctx, d, green) != nil {
		return false
	}
	if s.route(ctx, d, green) != nil {
		return false
	}
	s.drainQuietly(ctx, d, sw.Blue, sw.Green)
	s.stopQuietly(ctx, d, sw.Blue, sw.Green)
	return true
}

// drainQuietly waits, as a swap's drain-blue does, until Traefik holds no
// connection to container (if named, running and not keep), bounded by d's
// drain timeout; a drain that outlasts it is logged and blue stops anyway.
func (s *Server) drainQuietly(ctx context.Context, d *contract.Deploy, container, keep string) {
	if container == "" || container == keep || d == nil || d.Proxy == nil {
		return
	}
	c, err := s.inspect(ctx, container)
	if err != nil || !c.Running() {
		return
	}
	timeout := contract.DefaultDrainTimeout
	if d.DrainTimeout > 0 {
		timeout = d.DrainTimeout.D()
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.deps.Router.Drain(dctx, d, []swap.Server{swap.ServerFor(d, c)}); err != nil {
		s.log.Warn("drain container during reconcile", "container", container, "err", err)
	}
}

// ensureServing makes container run, pass its health check, and be what
// Traefik routes to. It reports whether it had to start the container.
func (s *Server) ensureServing(ctx context.Context, d *contract.Deploy, container string) (bool, error) {
	c, err := s.inspect(ctx, container)
	if err != nil {
		return false, err
	}
	if c.Running() {
		if d == nil {
			return false, nil
		}
		return false, s.routeWhenReady(ctx, d, c)
	}
	if d == nil {
		if err := s.deps.Containers.Start(ctx, container); err != nil {
			return false, fmt.Errorf("start %s: %w", container, err)
		}
		return true, nil
	}
	return s.startServing(ctx, d, container)
}

// routeWhenReady routes d's role to c, which runs, once c passes its
// health check. Running is not answering: after a dockerd restart the
// restart policy starts the app moments before this, and Traefik would
// answer 502 until it listens. Past the deploy timeout c is routed anyway
// (it is the live container; nothing better can serve) and the failed
// wait is returned, so the role counts as not reconciled.
func (s *Server) routeWhenReady(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	ready := s.deps.Prober.Ready(ctx, d, c)
	if ready == nil {
		// Probed at the address it answers on now; the route must use it.
		if fresh, err := s.inspect(ctx, c.Name); err == nil && fresh.Running() {
			c = fresh
		}
	}
	if err := s.route(ctx, d, c); err != nil {
		return fmt.Errorf("route %s: %w", c.Name, err)
	}
	if ready != nil {
		return fmt.Errorf("wait for %s healthy: %w", c.Name, ready)
	}
	return nil
}

// stopQuietly stops container (if named and not keep), logging failures:
// a stray running container is harmless once Traefik no longer routes to it.
func (s *Server) stopQuietly(ctx context.Context, d *contract.Deploy, container, keep string) {
	if container == "" || container == keep {
		return
	}
	timeout := contract.DefaultStopTimeout
	if d != nil && d.StopTimeout > 0 {
		timeout = d.StopTimeout.D()
	}
	c, err := s.inspect(ctx, container)
	if err != nil || !c.Running() {
		return
	}
	if err := s.deps.Containers.Stop(ctx, container, timeout); err != nil {
		s.log.Warn("stop container during reconcile", "container", container, "err", err)
	}
}

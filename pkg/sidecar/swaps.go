package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

func (s *Server) handleApply(w http.ResponseWriter, r *http.Request) {
	d, err := decodeDeploy(r.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.waitReady(r.Context()); err != nil {
		writeError(w, err)
		return
	}
	d.ApplyDefaults()
	role := roleOf(d)
	end, err := s.table.begin(role, actionDeploy)
	if err != nil {
		writeError(w, err)
		return
	}
	defer end()
	op := swapOp{
		end: end, role: role, action: actionDeploy, version: d.Version, green: d.ContainerName(),
		pending: d.Redacted(), who: whoOr(r.Header.Get(contract.HeaderWho)), host: d.Host,
		run: func(ctx context.Context, emit func(contract.Event)) (*swap.Result, error) {
			return s.deps.Swaps.Deploy(ctx, d, emit)
		},
	}
	s.runSwap(w, r, op)
}

func (s *Server) handleRollback(w http.ResponseWriter, r *http.Request) {
	var req contract.RollbackRequest
	if err := decodeRequest(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if err := s.waitReady(r.Context()); err != nil {
		writeError(w, err)
		return
	}
	end, err := s.table.begin(req.Role, actionRollback)
	if err != nil {
		writeError(w, err)
		return
	}
	defer end()
	green := contract.ContainerName(req.Service, req.Role.Role, req.Destination, req.Version)
	pending, err := s.specOf(r.Context(), green)
	if isMissing(err) {
		// Refused before anything is journaled or streamed: a rollback to
		// a version the host no longer has changes nothing, so it is a
		// plain 404 rather than a failed swap.
		writeError(w, &contract.Error{Code: contract.CodeNotFound,
			Message: fmt.Sprintf("rollback %s to %s: %v (no container %s on this host)", req.Role, req.Version, swap.ErrNotRetained, green)})
		return
	}
	if err != nil {
		// The swap will say why it cannot roll back; journal what we know.
		s.log.Warn("read spec of rollback target", "container", green, "err", err)
		pending = nil
	}
	who := req.Who
	if who == "" {
		who = r.Header.Get(contract.HeaderWho)
	}
	op := swapOp{
		end: end, role: req.Role, action: actionRollback, version: req.Version,
		green:   green,
		pending: pending, who: whoOr(who),
		run: func(ctx context.Context, emit func(contract.Event)) (*swap.Result, error) {
			return s.deps.Swaps.Rollback(ctx, req.Role, req.Version, emit)
		},
	}
	s.runSwap(w, r, op)
}

// errStarting refuses swaps until the start-up reconcile has settled every
// role, so a swap never races the repair of an interrupted one.
var errStarting = &contract.Error{Status: http.StatusServiceUnavailable, Code: contract.CodeStarting,
	Message: "the sidecar is reconciling this host after its start; retry in a moment"}

// swapOp is one deploy or rollback to run, journal, measure and audit.
type swapOp struct {
	// end marks the role idle again; called before the final event so a
	// client may start its next operation as soon as it reads it.
	end     func()
	role    contract.Role
	action  string
	version string
	green   string
	pending *contract.Deploy
	who     string
	host    string
	run     func(ctx context.Context, emit func(contract.Event)) (*swap.Result, error)
}

// swapOutcome is a finished swap: what the journal, metrics, audit log and
// final event are made from.
type swapOutcome struct {
	op     swapOp
	before RoleRecord // the role's record as the swap began
	start  time.Time
	end    time.Time
	res    *contract.Result // nil on failure
	err    *contract.Error  // nil on success
	// summary is err without the container logs it may carry.
	summary string
	t       *swapTracker
	// cancelled: the swap ended on its request's cancel (the client went).
	cancelled bool
}

// runSwap streams op's progress as NDJSON. The journal records every step
// before the event is sent, so a restarted sidecar knows how far it got.
func (s *Server) runSwap(w http.ResponseWriter, r *http.Request, op swapOp) {
	log := s.log.With("role", op.role.String(), "action", op.action, "version", op.version)
	start := s.now()
	before, err := s.journalSwapStart(op, start)
	if err != nil {
		writeError(w, err)
		return
	}
	stream := startEventStream(w)
	t := &swapTracker{s: s, op: op, stream: stream}
	log.Info("swap begins", "blue", before.Swap.Blue)

	res, err := op.run(r.Context(), t.emit)

	if errors.Is(err, context.Canceled) && s.base.Err() != nil {
		// Shutting down mid-swap: leave the journal "running" so the next
		// start reconciles from what is really on the host.
		log.Warn("swap interrupted by shutdown; reconcile will finish or undo it", "step", t.lastStep())
		return
	}
	out := swapOutcome{op: op, before: before, start: start, end: s.now(), t: t, cancelled: errors.Is(err, context.Canceled)}
	if err != nil {
		apiErr := apiError(err)
		out.summary = errSummary(apiErr)
		out.err = swapError(apiErr, t.lastStep())
	} else {
		out.res = apiResult(res)
	}
	rec := s.journalSwapEnd(log, out)
	s.recordSwap(out, rec)
	final := s.finalEvent(log, out)
	op.end()
	stream.write(final)
}

// journalSwapStart journals the swap as running, with the role's live
// container as blue, and returns the record as it was before.
func (s *Server) journalSwapStart(op swapOp, start time.Time) (RoleRecord, error) {
	before, err := s.table.update(op.role, func(rec *RoleRecord) {
		rec.PendingSpec = op.pending
		rec.Swap = &SwapRecord{
			Action: op.action, Version: op.version, Green: op.green,
			BlueVersion: rec.LiveVersion, Blue: rec.LiveContainer,
			State: swapRunning, StartedAt: start.UTC(), UpdatedAt: start.UTC(),
		}
	})
	if err != nil {
		return before, fmt.Errorf("journal %s start: %w", op.action, err)
	}
	return before, nil
}

// greenLive reports whether green is live once the swap ended: after a
// success, after a failure once cutover was done, and after a cancel once
// cutover began (a cancelled swap leaves the route as it is, and the
// cutover's route call always completes, so Traefik routes to green). The
// chaos soak: a Ctrl-C during a rollback's cutover left a host serving the
// rollback's target while its journal, and so the plugin's undo, said it
// served the version it left.
func greenLive(out swapOutcome) bool {
	return out.err == nil || out.t.cutoverDone() || (out.cancelled && out.t.routesGreen())
}

// journalSwapEnd journals how the swap ended and returns the new record.
func (s *Server) journalSwapEnd(log *slog.Logger, out swapOutcome) RoleRecord {
	op := out.op
	rec, err := s.table.update(op.role, func(rec *RoleRecord) {
		rec.Swap.UpdatedAt = out.end.UTC()
		rec.LastAction, rec.LastVersion, rec.LastAt = op.action, op.version, out.end.UTC()
		rec.Swap.State, rec.LastResult, rec.LastError = swapSucceeded, resultOK, ""
		if out.err != nil {
			rec.Swap.State, rec.Swap.Error = swapFailed, out.summary
			rec.LastResult, rec.LastError = resultFailed, out.summary
		}
		if greenLive(out) {
			rec.LiveVersion, rec.LiveContainer = op.version, op.green
			if out.res != nil && out.res.Container != "" {
				rec.LiveContainer = out.res.Container
			}
			if op.pending != nil {
				rec.LiveSpec = op.pending
			}
			rec.Stopped = false
		}
		rec.PendingSpec = nil
	})
	if err != nil {
		log.Error("journal swap end", "err", err)
	}
	return rec
}

// recordSwap counts the swap and appends it to the audit log.
func (s *Server) recordSwap(out swapOutcome, rec RoleRecord) {
	op := out.op
	s.metrics.Swap(op.action, out.err == nil)
	s.metrics.Live(op.role, rec.LiveVersion)
	audit := contract.AuditEntry{Who: op.who, Action: op.action, What: op.role.String() + " " + op.version,
		Result: resultOK, Host: op.host, Details: map[string]string{"previous": out.before.LiveVersion}}
	if out.err != nil {
		audit.Result = "failed: " + out.summary
	}
	s.appendAudit(audit)
}

// finalEvent is the stream's last event: the result, completed from what
// the server measured, or the error.
func (s *Server) finalEvent(log *slog.Logger, out swapOutcome) contract.Event {
	final := contract.Event{Status: contract.EventEnd}
	if out.err != nil {
		final.Error = out.err
		log.Error("swap failed", "step", out.err.Step, "err", out.err)
		return final
	}
	res := out.res
	res.Role = out.op.role
	res.Version = out.op.version
	if res.Container == "" {
		res.Container = out.op.green
	}
	if res.PreviousVersion == "" {
		res.PreviousVersion = out.before.LiveVersion
	}
	if res.Duration == 0 {
		res.Duration = contract.Duration(out.end.Sub(out.start))
	}
	if res.Cutover == 0 {
		res.Cutover = contract.Duration(out.t.cutoverLatency())
	}
	if res.Cutover > 0 {
		s.metrics.Cutover(res.Cutover.D())
	}
	final.Result = res
	log.Info("swap succeeded", "elapsed", out.end.Sub(out.start), "cutover", res.Cutover.D())
	return final
}

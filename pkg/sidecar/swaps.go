package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
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
		run: func(ctx context.Context, emit func(contract.Event)) (*contract.Result, error) {
			return s.deps.Swapper.Deploy(ctx, d, emit)
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
	pending, err := s.deps.Containers.Spec(r.Context(), green)
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
		run: func(ctx context.Context, emit func(contract.Event)) (*contract.Result, error) {
			return s.deps.Swapper.Rollback(ctx, req, emit)
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
	run     func(ctx context.Context, emit func(contract.Event)) (*contract.Result, error)
}

// runSwap streams op's progress as NDJSON. The journal records every step
// before the event is sent, so a restarted sidecar knows how far it got.
func (s *Server) runSwap(w http.ResponseWriter, r *http.Request, op swapOp) {
	log := s.log.With("role", op.role.String(), "action", op.action, "version", op.version)
	start := s.now()
	before, err := s.table.update(op.role, func(rec *RoleRecord) {
		rec.PendingSpec = op.pending
		rec.Swap = &SwapRecord{
			Action: op.action, Version: op.version, Green: op.green,
			BlueVersion: rec.LiveVersion, Blue: rec.LiveContainer,
			State: swapRunning, StartedAt: start.UTC(), UpdatedAt: start.UTC(),
		}
	})
	if err != nil {
		writeError(w, fmt.Errorf("journal %s start: %w", op.action, err))
		return
	}
	w.Header().Set("Content-Type", contract.ContentTypeNDJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	stream := &eventStream{w: contract.NewEventWriter(flushWriter{w})}
	t := &swapTracker{s: s, op: op, stream: stream}
	log.Info("swap begins", "blue", before.Swap.Blue)

	res, err := op.run(r.Context(), t.emit)

	if err != nil && errors.Is(err, context.Canceled) && s.base.Err() != nil {
		// Shutting down mid-swap: leave the journal "running" so the next
		// start reconciles from what is really on the host.
		log.Warn("swap interrupted by shutdown; reconcile will finish or undo it", "step", t.lastStep())
		return
	}
	end := s.now()
	ok := err == nil
	rec, jerr := s.table.update(op.role, func(rec *RoleRecord) {
		rec.Swap.UpdatedAt = end.UTC()
		rec.LastAction, rec.LastVersion, rec.LastAt = op.action, op.version, end.UTC()
		switch {
		case ok:
			rec.Swap.State = swapSucceeded
			rec.LiveVersion, rec.LiveContainer = op.version, op.green
			if res != nil && res.Container != "" {
				rec.LiveContainer = res.Container
			}
			if op.pending != nil {
				rec.LiveSpec = op.pending
			}
			rec.PendingSpec = nil
			rec.Stopped = false
			rec.LastResult, rec.LastError = resultOK, ""
		default:
			rec.Swap.State = swapFailed
			rec.Swap.Error = errSummary(err)
			if t.cutoverDone() {
				// Green went live before a later step failed: say so.
				rec.LiveVersion, rec.LiveContainer = op.version, op.green
				if op.pending != nil {
					rec.LiveSpec = op.pending
				}
				rec.Stopped = false
			}
			rec.PendingSpec = nil
			rec.LastResult, rec.LastError = resultFailed, errSummary(err)
		}
	})
	if jerr != nil {
		log.Error("journal swap end", "err", jerr)
	}
	s.metrics.Swap(op.action, ok)
	s.metrics.Live(op.role, rec.LiveVersion)
	audit := contract.AuditEntry{Who: op.who, Action: op.action, What: op.role.String() + " " + op.version,
		Result: resultOK, Host: op.host, Details: map[string]string{"previous": before.LiveVersion}}
	if !ok {
		audit.Result = "failed: " + errSummary(err)
	}
	s.appendAudit(audit)

	final := contract.Event{Status: contract.EventEnd}
	if ok {
		if res == nil {
			res = &contract.Result{}
		}
		res.Role = op.role
		res.Version = op.version
		if res.Container == "" {
			res.Container = op.green
		}
		if res.PreviousVersion == "" {
			res.PreviousVersion = before.LiveVersion
		}
		if res.Duration == 0 {
			res.Duration = contract.Duration(end.Sub(start))
		}
		if res.Cutover == 0 {
			res.Cutover = contract.Duration(t.cutoverLatency())
		}
		if res.Cutover > 0 {
			s.metrics.Cutover(res.Cutover.D())
		}
		final.Result = res
		log.Info("swap succeeded", "elapsed", end.Sub(start), "cutover", res.Cutover.D())
	} else {
		final.Error = swapError(err, t.lastStep())
		log.Error("swap failed", "step", final.Error.Step, "err", err)
	}
	op.end()
	stream.write(final)
}

// errSummary is err without the container logs an API error may carry:
// what the journal, the audit log and /v1/status keep.
func errSummary(err error) string {
	var e *contract.Error
	if errors.As(err, &e) && e.Message != "" {
		if e.Step != "" && !strings.Contains(e.Message, e.Step) {
			return e.Message + " (step " + e.Step + ")"
		}
		return e.Message
	}
	return err.Error()
}

// swapError turns a swap failure into the stream's final error.
func swapError(err error, step string) *contract.Error {
	var e *contract.Error
	if errors.As(err, &e) {
		c := *e
		if c.Code == "" {
			c.Code = contract.CodeDeployFailed
		}
		if c.Step == "" {
			c.Step = step
		}
		if c.Message == "" {
			c.Message = err.Error()
		}
		return &c
	}
	return &contract.Error{Code: contract.CodeDeployFailed, Message: err.Error(), Step: step}
}

// swapTracker journals and measures a swap's events and forwards them.
type swapTracker struct {
	s      *Server
	op     swapOp
	stream *eventStream

	mu          sync.Mutex
	step        string
	healthyAt   time.Time
	cutoverAt   time.Time
	cutoverSeen bool
}

func (t *swapTracker) emit(e contract.Event) {
	if e.Time.IsZero() {
		e.Time = t.s.now().UTC()
	}
	t.mu.Lock()
	if e.Step != "" {
		t.step = e.Step
	}
	if e.Step == StepWaitHealthy && e.Status == contract.EventDone {
		t.healthyAt = e.Time
	}
	if e.Step == StepCutover && e.Status == contract.EventDone {
		t.cutoverAt, t.cutoverSeen = e.Time, true
	}
	t.mu.Unlock()

	if e.Step != "" && (e.Status == contract.EventStart || e.Status == contract.EventDone || e.Status == contract.EventFail) {
		_, err := t.s.table.update(t.op.role, func(rec *RoleRecord) {
			if rec.Swap == nil {
				return
			}
			rec.Swap.Step, rec.Swap.StepStatus, rec.Swap.UpdatedAt = e.Step, e.Status, e.Time
			if e.Step == StepCutover || e.Step == StepDrain || e.Step == StepStopBlue || e.Step == StepRetain {
				rec.Swap.CutoverBegun = true
			}
		})
		if err != nil {
			t.s.log.Error("journal step", "role", t.op.role.String(), "step", e.Step, "err", err)
		}
	}
	if e.Status == contract.EventDone || e.Status == contract.EventFail {
		t.s.metrics.Step(e.Step, e.Status == contract.EventDone, e.Elapsed.D())
	}
	if e.Step == StepWaitHealthy && e.Status == contract.EventFail {
		t.s.metrics.HealthFailure(t.op.role)
	}
	t.stream.write(e)
}

func (t *swapTracker) lastStep() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.step
}

func (t *swapTracker) cutoverDone() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cutoverSeen
}

// cutoverLatency is green healthy → Traefik serving green, from events.
func (t *swapTracker) cutoverLatency() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.healthyAt.IsZero() || !t.cutoverSeen || t.cutoverAt.Before(t.healthyAt) {
		return 0
	}
	return t.cutoverAt.Sub(t.healthyAt)
}

// eventStream serialises writes to the response; after the first write
// error (client gone) it drops events: the swap carries on under its ctx.
type eventStream struct {
	mu     sync.Mutex
	w      *contract.EventWriter
	broken bool
}

func (es *eventStream) write(e contract.Event) {
	es.mu.Lock()
	defer es.mu.Unlock()
	if es.broken {
		return
	}
	if err := es.w.Write(e); err != nil {
		es.broken = true
	}
}

// flushWriter flushes after every write so events reach the client at once.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, http.NewResponseController(f.w).Flush()
}

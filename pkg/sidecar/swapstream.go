package sidecar

import (
	"net/http"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

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
	// routedSeen: a step that may route to green has begun.
	routedSeen bool
}

func (t *swapTracker) emit(e contract.Event) {
	if e.Time.IsZero() {
		e.Time = t.s.now().UTC()
	}
	t.observe(e)
	if e.Step != "" && (e.Status == contract.EventStart || e.Status == contract.EventDone || e.Status == contract.EventFail) {
		_, err := t.s.table.update(t.op.role, func(rec *RoleRecord) {
			if rec.Swap == nil {
				return
			}
			rec.Swap.Step, rec.Swap.StepStatus, rec.Swap.UpdatedAt = e.Step, e.Status, e.Time
			if swap.RoutesGreen(e.Step) {
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
	if e.Step == swap.StepWaitHealthy && e.Status == contract.EventFail {
		t.s.metrics.HealthFailure(t.op.role)
	}
	t.stream.write(e)
}

// observe notes the last step begun and when green became healthy and
// cutover was done.
func (t *swapTracker) observe(e contract.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.Step != "" {
		t.step = e.Step
	}
	if e.Step == swap.StepWaitHealthy && e.Status == contract.EventDone {
		t.healthyAt = e.Time
	}
	if e.Step == swap.StepCutover && e.Status == contract.EventDone {
		t.cutoverAt, t.cutoverSeen = e.Time, true
	}
	if swap.RoutesGreen(e.Step) {
		t.routedSeen = true
	}
}

// routesGreen reports whether a step that may route to green has begun.
func (t *swapTracker) routesGreen() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.routedSeen
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
//
// Its mutex is held across the network write on purpose: it is what keeps
// two events from interleaving on one response. Only the swap's own
// goroutine writes, so it never waits on another request.
type eventStream struct {
	mu     sync.Mutex
	w      *contract.EventWriter
	broken bool
}

// startEventStream sends the response header of an NDJSON stream.
func startEventStream(w http.ResponseWriter) *eventStream {
	w.Header().Set("Content-Type", contract.ContentTypeNDJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	return &eventStream{w: contract.NewEventWriter(flushWriter{w})}
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

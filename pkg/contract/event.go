package contract

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Event statuses.
const (
	EventStart = "start" // a step began
	EventDone  = "done"  // a step finished
	EventFail  = "fail"  // a step failed
	EventInfo  = "info"  // a message within a step
	EventEnd   = "end"   // the last event: Result or Error is set
)

// The swap steps whose EventDone a client acts on. StepCutover: the proxy
// routes to green, so the host switched. StepWaitHealthy: green passed its
// health check; for a role without a proxy that is when it serves (its old
// container stops next).
const (
	StepCutover     = "cutover"
	StepWaitHealthy = "wait-healthy"
)

// Event is one line of an apply or rollback progress stream. The last event
// of a stream has Status EventEnd and carries Result or Error.
type Event struct {
	// Time is when the sidecar emitted it.
	Time time.Time `json:"time"`
	// Step is the swap step name ("start-green", "wait-healthy", ...).
	Step string `json:"step,omitempty"`
	// Status is one of the Event* values.
	Status string `json:"status"`
	// Message is human-readable detail.
	Message string `json:"message,omitempty"`
	// Container the step acted on.
	Container string `json:"container,omitempty"`
	// Elapsed is the step's duration on EventDone/EventFail.
	Elapsed Duration `json:"elapsed,omitempty"`
	// Result is set on a successful EventEnd.
	Result *Result `json:"result,omitempty"`
	// Error is set on a failed EventEnd.
	Error *Error `json:"error,omitempty"`
}

// Result is the outcome of a successful apply or rollback on one host.
type Result struct {
	Role
	// Version is now live.
	Version string `json:"version"`
	// PreviousVersion was live before, empty on a first deploy.
	PreviousVersion string `json:"previousVersion,omitempty"`
	// Container is the live container's name.
	Container string `json:"container"`
	// Duration is the whole swap's wall time.
	Duration Duration `json:"duration"`
	// Cutover is the time from green healthy to Traefik serving green.
	Cutover Duration `json:"cutover,omitempty"`
	// Pruned are containers removed by retention.
	Pruned []string `json:"pruned,omitempty"`
	// Warnings are failures after cutover that did not fail the swap
	// (e.g. the old container did not stop in time).
	Warnings []string `json:"warnings,omitempty"`
}

// maxEventLine bounds one NDJSON line a client accepts (errors carry logs).
const maxEventLine = 4 << 20

// ErrStreamTruncated means a progress stream ended without its last event,
// e.g. the sidecar restarted mid-swap; ask /v1/status what happened.
var ErrStreamTruncated = errors.New("progress stream ended without a result")

// EventWriter writes NDJSON events, flushing after each one when the writer
// can flush.
type EventWriter struct {
	w   io.Writer
	enc *json.Encoder
}

// NewEventWriter returns a writer of one JSON event per line.
func NewEventWriter(w io.Writer) *EventWriter {
	return &EventWriter{w: w, enc: json.NewEncoder(w)}
}

// Write sends one event.
func (ew *EventWriter) Write(e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if err := ew.enc.Encode(e); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	if f, ok := ew.w.(interface{ Flush() }); ok {
		f.Flush()
	}
	return nil
}

// ReadEvents reads an NDJSON stream, calling emit (if non-nil) for every
// event but the last, and returns the last event's Result or Error. A
// stream that ends early returns ErrStreamTruncated.
func ReadEvents(r io.Reader, emit func(Event)) (*Result, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		if e.Status != EventEnd {
			if emit != nil {
				emit(e)
			}
			continue
		}
		if e.Error != nil {
			return nil, e.Error
		}
		if e.Result == nil {
			return nil, fmt.Errorf("decode event: end event without result or error")
		}
		return e.Result, nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w: %w", ErrStreamTruncated, err)
	}
	return nil, ErrStreamTruncated
}

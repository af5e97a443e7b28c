// Package health decides whether a freshly started container is ready: one
// Probe attempt at a time, polled by Wait with a per-attempt timeout, a fast
// interval and an overall deadline. A failure says which probe, how many
// attempts, and the last response or error.
package health

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Tunables with their defaults.
const (
	DefaultInterval = 200 * time.Millisecond
	DefaultTimeout  = 5 * time.Second
	DefaultDeadline = 30 * time.Second
	// maxReason bounds how much of a response body goes into a reason.
	maxReason = 512
)

// Probe makes one readiness attempt; nil means healthy. Wrap an error with
// Permanent when polling again cannot help (the container exited).
type Probe interface {
	Check(ctx context.Context) error
}

// Func adapts a function to Probe.
type Func func(ctx context.Context) error

// Check calls f.
func (f Func) Check(ctx context.Context) error { return f(ctx) }

// Options tune Wait; zero fields take the defaults.
type Options struct {
	// Interval between the end of one attempt and the start of the next.
	Interval time.Duration
	// Timeout of one attempt.
	Timeout time.Duration
	// Deadline for the whole wait.
	Deadline time.Duration
	// OnAttempt, when set, is called after each attempt (for metrics/logs).
	OnAttempt func(attempt int, err error)
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Deadline <= 0 {
		o.Deadline = DefaultDeadline
	}
	return o
}

// ErrDeadline is the cause of an Error whose deadline passed.
var ErrDeadline = errors.New("deadline exceeded")

// Error is why a Wait failed.
type Error struct {
	// Probe describes the probe (its String, when it has one).
	Probe string
	// Attempts made and time spent.
	Attempts int
	Elapsed  time.Duration
	// Last is the last attempt's error (nil if none was made).
	Last error
	// Cause is ErrDeadline, the parent context's error, or the permanent
	// error that stopped polling.
	Cause error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s not healthy after %d attempts in %s", e.Probe, e.Attempts, e.Elapsed.Round(time.Millisecond))
	if e.Cause != nil && !errors.Is(e.Cause, e.Last) {
		msg += " (" + e.Cause.Error() + ")"
	}
	if e.Last != nil {
		msg += ": last: " + e.Last.Error()
	}
	return msg
}

// Unwrap exposes the cause and the last error, so errors.Is(err,
// context.Canceled) tells a cancelled wait from an unhealthy container.
func (e *Error) Unwrap() []error {
	var out []error
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	if e.Last != nil && !errors.Is(e.Cause, e.Last) {
		out = append(out, e.Last)
	}
	return out
}

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Wait polls p until it succeeds, fails permanently, the deadline passes or
// ctx ends. It returns nil or an *Error.
func Wait(ctx context.Context, p Probe, o Options) error {
	o = o.withDefaults()
	start := time.Now()
	ctx, cancel := context.WithTimeoutCause(ctx, o.Deadline, ErrDeadline)
	defer cancel()
	// A dial can hit the deadline (set on its socket) before ctx reports it.
	end := start.Add(o.Deadline)
	e := &Error{Probe: describe(p)}
	timer := time.NewTimer(o.Interval)
	timer.Stop()
	defer timer.Stop()
	// The loop is bounded by the deadline; the attempt cap is a backstop.
	maxAttempts := int(o.Deadline/o.Interval) + 2
	for e.Attempts < maxAttempts {
		actx, acancel := context.WithTimeout(ctx, o.Timeout)
		err := p.Check(actx)
		acancel()
		e.Attempts++
		if o.OnAttempt != nil {
			o.OnAttempt(e.Attempts, err)
		}
		if err == nil {
			return nil
		}
		// An attempt cut short by the overall deadline or a cancel says
		// less than the one before it: keep that one as the reason.
		if e.Last == nil || (ctx.Err() == nil && time.Now().Before(end)) {
			e.Last = err
		}
		if IsPermanent(err) {
			e.Cause, e.Elapsed = err, time.Since(start)
			return e
		}
		timer.Reset(o.Interval)
		select {
		case <-ctx.Done():
			e.Cause, e.Elapsed = context.Cause(ctx), time.Since(start)
			return e
		case <-timer.C:
		}
	}
	e.Cause, e.Elapsed = ErrDeadline, time.Since(start)
	return e
}

func describe(p Probe) string {
	if s, ok := p.(fmt.Stringer); ok {
		return s.String()
	}
	return "probe"
}

package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// ErrConnectionLost: the host stopped answering (or the connection broke)
// while it was in use. A *LostError says which host and how.
var ErrConnectionLost = errors.New("connection lost")

// LostError is a connection to Host found dead: Silent is how long the host
// had sent nothing when keepalives gave up (zero when the connection broke
// outright; then Err says how).
type LostError struct {
	Host   string
	Silent time.Duration
	Err    error
}

func (e *LostError) Error() string {
	if e.Silent > 0 {
		return fmt.Sprintf("ssh %s: %v: the host sent nothing for %s (keepalives unanswered)", e.Host, ErrConnectionLost, e.Silent.Round(100*time.Millisecond))
	}
	if e.Err != nil {
		return fmt.Sprintf("ssh %s: %v: %v", e.Host, ErrConnectionLost, e.Err)
	}
	return fmt.Sprintf("ssh %s: %v", e.Host, ErrConnectionLost)
}

func (e *LostError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrConnectionLost}
	}
	return []error{ErrConnectionLost, e.Err}
}

// activity is when the host last sent us anything: any bytes prove it is
// alive, so a keepalive reply queued behind a large transfer is no miss.
type activity struct{ last atomic.Int64 }

func newActivity() *activity {
	a := &activity{}
	a.touch()
	return a
}

func (a *activity) touch() { a.last.Store(time.Now().UnixNano()) }

// since is how long the host has been silent.
func (a *activity) since() time.Duration { return time.Since(time.Unix(0, a.last.Load())) }

// activityConn records every successful read on a hop's stream: in act,
// when set (the host's own stream, for keepalives), and in dial, whose
// writes it records too (the host owes an answer to each).
type activityConn struct {
	net.Conn
	a    *activity
	dial *dialWatch
}

func (c *activityConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		if c.a != nil {
			c.a.touch()
		}
		c.dial.answered()
	}
	return n, err
}

func (c *activityConn) Write(p []byte) (int, error) {
	c.dial.asked()
	return c.Conn.Write(p)
}

// lost is the error that says why c died, once it has.
func (c *Conn) lost() error {
	if p := c.lostErr.Load(); p != nil {
		return *p
	}
	return &LostError{Host: c.host}
}

// markLost records why c is dead (the first reason wins) and closes it.
func (c *Conn) markLost(err *LostError) {
	var e error = err
	c.lostErr.CompareAndSwap(nil, &e)
	_ = c.Close() // the connection is dead; lost() tells callers why
}

// ifLost is c's LostError when c died (err is what the dead connection
// made of it), else err.
func (c *Conn) ifLost(err error) error {
	if err != nil && c.Closed() && c.lostErr.Load() != nil {
		return c.lost()
	}
	return err
}

// lostAwareConn turns the end of a forwarded stream on a dead connection
// into the LostError, so an HTTP call to the sidecar says the host was
// lost rather than "unexpected EOF".
type lostAwareConn struct {
	net.Conn
	c *Conn
}

func (l *lostAwareConn) Read(p []byte) (int, error) {
	n, err := l.Conn.Read(p)
	return n, l.c.ifLost(err)
}

func (l *lostAwareConn) Write(p []byte) (int, error) {
	n, err := l.Conn.Write(p)
	return n, l.c.ifLost(err)
}

// dialWatch tracks, during a dial, since when the host owes an answer: from
// the TCP connect or the first write after its last read. Time spent on our
// side (an ssh-agent waiting for a security key's touch) owes nothing.
type dialWatch struct {
	owed atomic.Int64 // unix nanoseconds; 0 when nothing is owed
}

func (w *dialWatch) asked()    { w.owed.CompareAndSwap(0, time.Now().UnixNano()) }
func (w *dialWatch) answered() { w.owed.Store(0) }

// overdue is how long the host has owed an answer (0: nothing owed).
func (w *dialWatch) overdue() time.Duration {
	if at := w.owed.Load(); at != 0 {
		return time.Since(time.Unix(0, at))
	}
	return 0
}

// watchSilence returns ctx, cancelled with a *LostError for host once addr
// has owed w an answer for limit: keepalives only start once the
// connection is up, and a host cut off during the TCP connect or the SSH
// handshake would otherwise hold the dial until its 30 s timeout. limit 0
// (keepalives disabled) watches nothing.
func watchSilence(ctx context.Context, host, addr string, w *dialWatch, limit time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	if limit <= 0 {
		return ctx, func() { cancel(nil) }
	}
	go func() {
		tick := time.NewTicker(limit / 12)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if d := w.overdue(); d >= limit {
					cancel(&LostError{Host: host, Err: fmt.Errorf("%w: connecting to %s, the host sent nothing for %s", errDialSilent, addr, d.Round(100*time.Millisecond))})
					return
				}
			}
		}
	}()
	return ctx, func() { cancel(nil) }
}

// errDialSilent: a host went silent while being dialled.
var errDialSilent = errors.New("no answer")

// lostCause is the *LostError that cancelled ctx, if one did.
func lostCause(ctx context.Context) *LostError {
	var l *LostError
	if errors.As(context.Cause(ctx), &l) {
		return l
	}
	return nil
}

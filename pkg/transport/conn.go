package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// stderrTail bounds the stderr kept in an ExitError.
const stderrTail = 4 << 10

// ExitError is a remote command that ran and exited non-zero (or was killed by
// a signal, then Code is -1 and Signal is set).
type ExitError struct {
	Code   int
	Signal string
	// Stderr is the tail of the command's stderr when Output captured it.
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("remote command exited with status %d", e.Code)
	if e.Signal != "" {
		msg = "remote command killed by signal " + e.Signal
	}
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Conn is one SSH connection to a host (through its jump hosts, if any).
// Safe for concurrent use; each Run opens its own session.
type Conn struct {
	host     string
	client   *ssh.Client
	hops     []*ssh.Client // jump host clients, closed after client
	sessions chan struct{} // semaphore bounding concurrent channels
	done     chan struct{}
	once     sync.Once
	closeErr error
	// act is when the host last sent anything; lostErr says why the
	// connection died, when it died rather than being closed.
	act     *activity
	lostErr atomic.Pointer[error]

	httpMu sync.Mutex
	http   map[string]*http.Client // by socket path

	// forwardAgent requests agent forwarding for every session.
	forwardAgent bool
	refusedOnce  sync.Once
	log          *slog.Logger
}

func newConn(host string, hops []*ssh.Client, act *activity, opts Options) *Conn {
	if act == nil {
		act = newActivity()
	}
	c := &Conn{
		host:     host,
		client:   hops[len(hops)-1],
		hops:     hops[:len(hops)-1],
		sessions: make(chan struct{}, opts.MaxSessions),
		done:     make(chan struct{}),
		log:      opts.logger(),
		act:      act,
	}
	go func() {
		err := c.client.Wait() // the connection died or was closed: either way, close it
		if !c.Closed() {
			c.markLost(&LostError{Host: c.host, Err: err})
		}
	}()
	if opts.Keepalive > 0 {
		go c.keepalive(opts.Keepalive, DefaultKeepaliveMax)
	}
	return c
}

// Host is the host name this connection was dialled for.
func (c *Conn) Host() string { return c.host }

// Close closes the connection and its jump connections.
func (c *Conn) Close() error {
	c.once.Do(func() {
		close(c.done)
		// Closing idle streams writes to the connection: not under httpMu.
		c.httpMu.Lock()
		clients := make([]*http.Client, 0, len(c.http))
		for _, hc := range c.http {
			clients = append(clients, hc)
		}
		c.httpMu.Unlock()
		for _, hc := range clients {
			hc.CloseIdleConnections()
		}
		c.closeErr = c.client.Close()
		for i := len(c.hops) - 1; i >= 0; i-- {
			_ = c.hops[i].Close() // the host's own connection's error is the one reported
		}
		if errors.Is(c.closeErr, net.ErrClosed) {
			c.closeErr = nil
		}
	})
	return c.closeErr
}

// Closed reports whether the connection has been closed or has died.
func (c *Conn) Closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// keepalive sends keepalive requests and closes the connection, as lost,
// after max consecutive ones get no answer within interval while the host
// sent nothing else either (a reply may wait behind a large transfer).
func (c *Conn) keepalive(interval time.Duration, max int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err != nil {
				c.markLost(&LostError{Host: c.host, Err: err})
				return
			}
			missed = 0
		case <-time.After(interval):
			if c.act.since() < interval {
				missed = 0 // no reply yet, but the host is talking
				continue
			}
			missed++
			if missed >= max {
				c.markLost(&LostError{Host: c.host, Silent: c.act.since()})
				return
			}
		case <-c.done:
			return
		}
	}
}

// acquire takes a channel slot, honouring ctx.
func (c *Conn) acquire(ctx context.Context) error {
	select {
	case c.sessions <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.ifLost(errors.New("connection closed"))
	}
}

func (c *Conn) release() { <-c.sessions }

// Run runs cmd (a shell command line: build it with Quote) on the host with
// the given stdio (nil ones are discarded / empty). A non-zero exit is an
// *ExitError. When ctx ends the remote command is sent SIGTERM and the session
// closed; Run then returns ctx's error.
func (c *Conn) Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error {
	return c.run(ctx, cmd, stdin, stdout, stderr, nil)
}

// Output runs cmd and returns its stdout. On a non-zero exit the *ExitError
// carries the tail of stderr.
func (c *Conn) Output(ctx context.Context, cmd string) ([]byte, error) {
	var out bytes.Buffer
	tail := &tailBuffer{max: stderrTail}
	err := c.run(ctx, cmd, nil, &out, tail, nil)
	var exitErr *ExitError
	if errors.As(err, &exitErr) {
		exitErr.Stderr = string(bytes.TrimSpace(tail.Bytes()))
	}
	return out.Bytes(), err
}

// ptyRequest asks for a terminal on the session.
type ptyRequest struct {
	term          string
	width, height int
}

func (c *Conn) run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer, pty *ptyRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.acquire(ctx); err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	defer c.release()
	sess, err := c.client.NewSession()
	if err != nil {
		return fmt.Errorf("open session: %w", c.ifLost(err))
	}
	defer func() { _ = sess.Close() }() // after Wait it is closed already; nothing to report
	if pty != nil {
		modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 14400, ssh.TTY_OP_OSPEED: 14400}
		if err := sess.RequestPty(pty.term, pty.height, pty.width, modes); err != nil {
			return fmt.Errorf("request pty: %w", err)
		}
	}
	if stdout != nil && stdout == stderr {
		// Both streams are copied concurrently: serialise shared writers.
		lw := &lockedWriter{w: stdout}
		stdout, stderr = lw, lw
	}
	sess.Stdout, sess.Stderr = stdout, stderr
	if stdin != nil {
		// Our own pipe so a stdin that never ends (a terminal) does not keep
		// Wait from returning once the command exits.
		w, err := sess.StdinPipe()
		if err != nil {
			return fmt.Errorf("open stdin: %w", err)
		}
		go func() {
			_, _ = io.Copy(w, stdin) // the command's exit status tells whether it got its input
			_ = w.Close()            // sends EOF; fails only when the session is gone
		}()
	}
	if c.forwardAgent {
		c.requestForwarding(sess)
	}
	if err := sess.Start(cmd); err != nil {
		return fmt.Errorf("start remote command: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		// Stopping on ctx: ctx's error is the one to report, not these.
		_ = sess.Signal(ssh.SIGTERM)
		_ = sess.Close()
		select {
		case err := <-waited:
			_ = err
		case <-time.After(time.Second):
		}
		return ctx.Err()
	case <-c.done:
		return fmt.Errorf("run remote command: %w", c.lost())
	}
	return c.ifLost(exitError(err))
}

func exitError(err error) error {
	if err == nil {
		return nil
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		if ee.Signal() != "" {
			return &ExitError{Code: -1, Signal: ee.Signal()}
		}
		return &ExitError{Code: ee.ExitStatus()}
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		return errors.New("run remote command: session ended without an exit status")
	}
	return fmt.Errorf("run remote command: %w", err)
}

// DialTCP opens a TCP connection from the remote host to addr (as seen
// from there, e.g. "127.0.0.1:5432"), like ssh -L.
func (c *Conn) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	nc, err := c.client.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, c.ifLost(err))
	}
	return &lostAwareConn{Conn: nc, c: c}, nil
}

// DialUnix opens a stream to the unix socket at path on the host, forwarded
// over this connection ("direct-streamlocal@openssh.com"). The returned conn
// has no deadline support.
func (c *Conn) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	nc, err := c.client.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, c.ifLost(err))
	}
	return &lostAwareConn{Conn: nc, c: c}, nil
}

// HTTPClient returns an HTTP client whose every request goes to the unix
// socket at socketPath on the host, whatever the URL's host (use
// "http://sidecar/..."). One client per path is kept for the connection's
// life, so calling this per request is fine. It sets no timeout: give each
// request a context.
func (c *Conn) HTTPClient(socketPath string) *http.Client {
	c.httpMu.Lock()
	defer c.httpMu.Unlock()
	if hc, ok := c.http[socketPath]; ok {
		return hc
	}
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.DialUnix(ctx, socketPath)
		},
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}}
	if c.http == nil {
		c.http = map[string]*http.Client{}
	}
	c.http[socketPath] = hc
	return hc
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte { return t.buf }

// lockedWriter serialises writes from concurrent copies.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

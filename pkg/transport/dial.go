package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
)

// HostError wraps any error about one host with that host's name.
type HostError struct {
	Host string
	Err  error
}

func (e *HostError) Error() string {
	if lost := (*LostError)(nil); errors.As(e.Err, &lost) && lost.Host == e.Host {
		return e.Err.Error() // it names the host already
	}
	return "ssh " + e.Host + ": " + e.Err.Error()
}
func (e *HostError) Unwrap() error { return e.Err }

// ErrAuth: the server accepted none of our keys.
var ErrAuth = errors.New("ssh authentication failed")

// Dial connects to one host with opts, reading the ssh config. Prefer a Pool,
// which reuses connections across a command.
func Dial(ctx context.Context, host string, opts Options) (*Conn, error) {
	opts = opts.withDefaults()
	cfg, err := loadConfigs(opts)
	if err != nil {
		return nil, &HostError{Host: host, Err: err}
	}
	c, err := dial(ctx, host, opts, cfg)
	if err != nil {
		return nil, &HostError{Host: host, Err: err}
	}
	return c, nil
}

func dial(ctx context.Context, host string, opts Options, cfg sshConfig) (*Conn, error) {
	t, err := resolve(host, opts, cfg)
	if err != nil {
		return nil, err
	}
	var hops []*ssh.Client
	closeHops := func() {
		for i := len(hops) - 1; i >= 0; i-- {
			_ = hops[i].Close() // abandoning the dial: its own error is the one to report
		}
	}
	log := opts.logger()
	var prev *ssh.Client
	act := newActivity() // of the host's own stream, not its jump hosts'
	for _, j := range append(append([]*target(nil), t.Jumps...), t) {
		log.Debug("ssh connect", "host", j.Alias, "addr", j.addr(), "user", j.User, "jump", j != t)
		var a *activity
		if j == t {
			a = act
		}
		client, err := dialHop(ctx, host, j, prev, a, opts)
		if err != nil {
			log.Error("ssh connect failed", "host", j.Alias, "err", err)
			closeHops()
			if j != t {
				return nil, fmt.Errorf("connect via jump host %s: %w", j.Alias, err)
			}
			return nil, err
		}
		hops = append(hops, client)
		prev = client
	}
	c := newConn(host, hops, act, opts)
	log.Info("ssh connected", "host", t.Alias, "addr", t.addr(), "user", t.User, "jumps", len(t.Jumps))
	if opts.ForwardAgent {
		c.forwardAgent = forwardAgent(c.client, t, log)
	}
	return c, nil
}

// dialHop connects to t directly, or through prev when t is behind a jump
// host, on the way to host; act, when set, records every read from t.
func dialHop(ctx context.Context, host string, t *target, prev *ssh.Client, act *activity, opts Options) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	silence := &dialWatch{}
	ctx, stopWatch := watchSilence(ctx, host, t.addr(), silence, opts.handshakeSilence())
	defer stopWatch()
	lost := func(err error) error {
		if l := lostCause(ctx); l != nil {
			return l
		}
		return err
	}

	checker := &hostKeyChecker{files: t.KnownHosts, acceptNew: t.AcceptNew}
	hostKeyCB, algos, err := checker.callback(t.knownHostsAddr())
	if err != nil {
		return nil, err
	}
	a, err := loadAuth(t)
	if err != nil {
		return nil, err
	}
	defer a.close()
	watch := &refusalWatch{}
	config := &ssh.ClientConfig{
		User:              t.User,
		Auth:              a.methods(watch),
		AuthCallback:      watch.authCallback,
		HostKeyCallback:   hostKeyCB,
		HostKeyAlgorithms: algos,
		Timeout:           opts.ConnectTimeout,
	}
	silence.asked()
	nc, err := dialNet(ctx, t, prev)
	if err != nil {
		return nil, lost(fmt.Errorf("connect to %s: %w", t.addr(), err))
	}
	silence.answered()
	nc = &activityConn{Conn: nc, a: act, dial: silence}

	// The handshake has no context: bound it with the deadline and close the
	// connection if ctx ends first (the handshake then fails and says so).
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline) // forwarded channels do not support deadlines
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(watch.conn(nc), t.knownHostsAddr(), config)
	interrupted := !stop()
	if err != nil {
		_ = nc.Close() // already closed by NewClientConn; the handshake error is the one to report
		return nil, lost(handshakeError(ctx, t, a, err, interrupted))
	}
	if interrupted {
		_ = sc.Close() // ctx ended: its error is the one to report
		return nil, lost(fmt.Errorf("ssh handshake with %s: %w", t.addr(), ctx.Err()))
	}
	_ = nc.SetDeadline(time.Time{}) // forwarded channels do not support deadlines
	return ssh.NewClient(sc, chans, reqs), nil
}

// dialNet opens the stream the SSH handshake runs over: a channel through the
// previous hop, the ProxyCommand's stdio, or TCP.
func dialNet(ctx context.Context, t *target, prev *ssh.Client) (net.Conn, error) {
	switch {
	case prev != nil:
		return prev.DialContext(ctx, "tcp", t.addr())
	case t.ProxyCommand != "":
		return dialProxyCommand(t)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", t.addr())
}

// handshakeError says why the handshake with t failed: a refused host key,
// ctx ending, or every key refused (ErrAuth, with what was tried).
func handshakeError(ctx context.Context, t *target, a *auth, err error, interrupted bool) error {
	var hkErr *HostKeyError
	switch {
	case errors.As(err, &hkErr):
		return hkErr
	case interrupted && ctx.Err() != nil:
		return fmt.Errorf("ssh handshake with %s: %w", t.addr(), ctx.Err())
	case errors.Is(err, ErrAuth):
		return fmt.Errorf("%w: %s@%s: %s", ErrAuth, t.User, t.addr(), a.describe(t.User))
	}
	return fmt.Errorf("ssh handshake with %s: %w", t.addr(), err)
}

package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// HostError wraps any error about one host with that host's name.
type HostError struct {
	Host string
	Err  error
}

func (e *HostError) Error() string { return "ssh " + e.Host + ": " + e.Err.Error() }
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
			hops[i].Close()
		}
	}
	var prev *ssh.Client
	for _, j := range append(append([]*target(nil), t.Jumps...), t) {
		client, err := dialHop(ctx, j, prev, opts)
		if err != nil {
			closeHops()
			if j != t {
				return nil, fmt.Errorf("connect via jump host %s: %w", j.Alias, err)
			}
			return nil, err
		}
		hops = append(hops, client)
		prev = client
	}
	return newConn(host, hops, opts), nil
}

// dialHop connects to t directly, or through prev when t is behind a jump host.
func dialHop(ctx context.Context, t *target, prev *ssh.Client, opts Options) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()

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
	config := &ssh.ClientConfig{
		User:              t.User,
		Auth:              a.methods(),
		HostKeyCallback:   hostKeyCB,
		HostKeyAlgorithms: algos,
		Timeout:           opts.ConnectTimeout,
	}

	var nc net.Conn
	switch {
	case prev != nil:
		nc, err = prev.DialContext(ctx, "tcp", t.addr())
	case t.ProxyCommand != "":
		nc, err = dialProxyCommand(t)
	default:
		var d net.Dialer
		nc, err = d.DialContext(ctx, "tcp", t.addr())
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", t.addr(), err)
	}

	// The handshake has no context: bound it with the deadline and close the
	// connection if ctx ends first.
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline) // forwarded channels do not support deadlines
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(nc, t.knownHostsAddr(), config)
	interrupted := !stop()
	if err != nil {
		nc.Close()
		var hkErr *HostKeyError
		switch {
		case errors.As(err, &hkErr):
			return nil, hkErr
		case interrupted && ctx.Err() != nil:
			return nil, fmt.Errorf("ssh handshake with %s: %w", t.addr(), ctx.Err())
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, fmt.Errorf("%w: %s@%s: %s", ErrAuth, t.User, t.addr(), a.describe(t.User))
		}
		return nil, fmt.Errorf("ssh handshake with %s: %w", t.addr(), err)
	}
	if interrupted {
		sc.Close()
		return nil, fmt.Errorf("ssh handshake with %s: %w", t.addr(), ctx.Err())
	}
	_ = nc.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

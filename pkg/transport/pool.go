package transport

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// Pool holds one connection per host for the length of a command: dialled on
// first use, shared by concurrent callers, closed together. Safe for
// concurrent use.
type Pool struct {
	opts   Options
	dialer func(ctx context.Context, host string) (*Conn, error)

	mu     sync.Mutex
	conns  map[string]*poolEntry
	closed bool
	dials  chan struct{} // bounds concurrent dials
	// queued counts the dials waiting for a slot of dials (found it full),
	// so a test can tell a queued dial from one not yet started.
	queued atomic.Int32

	beforeOnce sync.Once // runs Options.BeforeConnect
	beforeErr  error
}

type poolEntry struct {
	ready chan struct{} // closed when conn/err are set
	conn  *Conn
	err   error
}

// ErrPoolClosed is returned by Get after Close.
var ErrPoolClosed = errors.New("ssh pool closed")

// NewPool returns a pool dialling with opts. It reads the ssh config once,
// now, so a config error shows before any host is contacted.
func NewPool(opts Options) (*Pool, error) {
	opts = opts.withDefaults()
	cfg, err := loadConfigs(opts)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		opts:  opts,
		conns: map[string]*poolEntry{},
		dials: make(chan struct{}, opts.MaxConcurrentDials),
	}
	p.dialer = func(ctx context.Context, host string) (*Conn, error) {
		return dial(ctx, host, opts, cfg)
	}
	return p, nil
}

// Get returns the connection to host, dialling it if there is none or the
// previous one died. Errors are *HostError.
func (p *Pool) Get(ctx context.Context, host string) (*Conn, error) {
	for attempt := 0; attempt < 2; attempt++ {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, &HostError{Host: host, Err: ErrPoolClosed}
		}
		e, ok := p.conns[host]
		if ok {
			select {
			case <-e.ready:
				if e.err != nil || e.conn.Closed() {
					delete(p.conns, host) // failed or died: dial again
					ok = false
				}
			default:
			}
		}
		if !ok {
			e = &poolEntry{ready: make(chan struct{})}
			p.conns[host] = e
			p.mu.Unlock()
			e.conn, e.err = p.dialBounded(ctx, host)
			close(e.ready)
			if e.err != nil {
				p.forget(host, e)
				return nil, &HostError{Host: host, Err: e.err}
			}
			p.mu.Lock()
			closed := p.closed
			p.mu.Unlock()
			if closed {
				_ = e.conn.Close() // unused: the pool closed while dialling
				return nil, &HostError{Host: host, Err: ErrPoolClosed}
			}
			return e.conn, nil
		}
		p.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, &HostError{Host: host, Err: ctx.Err()}
		}
		if e.err == nil && !e.conn.Closed() {
			return e.conn, nil
		}
		// The dial we waited for failed (maybe only its caller's ctx ended),
		// or the connection died: try once more with our own ctx.
		if ctx.Err() != nil {
			return nil, &HostError{Host: host, Err: ctx.Err()}
		}
		if attempt == 1 {
			if e.err != nil {
				return nil, &HostError{Host: host, Err: e.err}
			}
			return nil, &HostError{Host: host, Err: errors.New("connection lost")}
		}
	}
	return nil, &HostError{Host: host, Err: errors.New("connection lost")}
}

func (p *Pool) dialBounded(ctx context.Context, host string) (*Conn, error) {
	select {
	case p.dials <- struct{}{}:
	default:
		p.queued.Add(1)
		select {
		case p.dials <- struct{}{}:
			p.queued.Add(-1)
		case <-ctx.Done():
			p.queued.Add(-1)
			return nil, ctx.Err()
		}
	}
	defer func() { <-p.dials }()
	if p.opts.BeforeConnect != nil {
		p.beforeOnce.Do(func() { p.beforeErr = p.opts.BeforeConnect(ctx) })
		if p.beforeErr != nil {
			return nil, p.beforeErr
		}
	}
	c, err := p.dialer(ctx, host)
	for i := 0; i < p.opts.DNSRetries && isDNSError(err) && ctx.Err() == nil; i++ {
		c, err = p.dialer(ctx, host)
	}
	return c, err
}

// isDNSError reports whether err is a failed host name lookup.
func isDNSError(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de)
}

func (p *Pool) forget(host string, e *poolEntry) {
	p.mu.Lock()
	if p.conns[host] == e {
		delete(p.conns, host)
	}
	p.mu.Unlock()
}

// Each runs fn for every host with at most Options.MaxParallel at once, each
// with its pooled connection, and returns the per-host errors (nil entries
// for hosts that succeeded; errors are *HostError). It does not stop at the
// first failure; a cancelled ctx stops hosts not yet started.
func (p *Pool) Each(ctx context.Context, hosts []string, fn func(ctx context.Context, c *Conn) error) []error {
	errs := make([]error, len(hosts))
	sem := make(chan struct{}, p.opts.MaxParallel)
	var wg sync.WaitGroup
	for i, h := range hosts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = &HostError{Host: h, Err: ctx.Err()}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := p.Get(ctx, h)
			if err != nil {
				errs[i] = err
				return
			}
			if err := fn(ctx, c); err != nil {
				var he *HostError
				if !errors.As(err, &he) {
					err = &HostError{Host: h, Err: err}
				}
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errs
}

// Close closes every connection. Later Gets fail with ErrPoolClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	entries := p.conns
	p.conns = map[string]*poolEntry{}
	p.mu.Unlock()
	var errs []error
	for _, e := range entries {
		select {
		case <-e.ready:
			if e.conn != nil {
				errs = append(errs, e.conn.Close())
			}
		default:
			// still dialling: Get closes it when it sees the pool closed
		}
	}
	return errors.Join(errs...)
}

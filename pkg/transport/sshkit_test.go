package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolMaxConcurrentDials: MaxConcurrentDials (sshkit.max_concurrent_starts)
// bounds how many hosts are being dialled at once, below MaxParallel.
func TestPoolMaxConcurrentDials(t *testing.T) {
	for _, tc := range []struct{ limit, want int }{{2, 2}, {0, 6}} {
		p, err := NewPool(Options{ConfigFile: "none", MaxParallel: 6, MaxConcurrentDials: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		var now, peak atomic.Int32
		release := make(chan struct{})
		p.dialer = func(ctx context.Context, host string) (*Conn, error) {
			n := now.Add(1)
			for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
			}
			defer now.Add(-1)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil, errors.New("test dialer")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = p.Get(ctx, fmt.Sprintf("h%d", i)) }()
		}
		// Settled: every Get is dialling or queued behind a full bound.
		// No dial ends before release, so no slot frees and nothing more
		// can start: the peak is final.
		deadline := time.Now().Add(5 * time.Second)
		for now.Load()+p.queued.Load() < 12 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if n, q := now.Load(), p.queued.Load(); n+q != 12 {
			t.Fatalf("MaxConcurrentDials %d: %d dialling and %d queued after 5 s, want all 12 Gets settled", tc.limit, n, q)
		}
		if got := peak.Load(); got != int32(tc.want) {
			t.Errorf("MaxConcurrentDials %d: %d dials at once, want %d", tc.limit, got, tc.want)
		}
		close(release)
		wg.Wait()
		cancel()
		_ = p.Close()
	}
}

// TestPoolDNSRetries: a dial whose host name did not resolve is tried
// DNSRetries more times (sshkit.dns_retries); other errors are not retried.
func TestPoolDNSRetries(t *testing.T) {
	p, err := NewPool(Options{ConfigFile: "none", DNSRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var calls int
	fail := error(&net.DNSError{Err: "no such host", Name: "web1", IsNotFound: true})
	p.dialer = func(ctx context.Context, host string) (*Conn, error) {
		calls++
		return nil, fmt.Errorf("connect to %s: %w", host, fail)
	}
	ctx := context.Background()
	var de *net.DNSError
	if _, err := p.Get(ctx, "web1"); !errors.As(err, &de) || calls != 3 {
		t.Errorf("DNS failure: %d dials (err %v), want 3 (1 + 2 retries)", calls, err)
	}
	calls, fail = 0, errors.New("connection refused")
	if _, err := p.Get(ctx, "web2"); err == nil || calls != 1 {
		t.Errorf("other failure: %d dials, want 1", calls)
	}
}

// TestKeysOnly: with KeysOnly (ssh.keys_only) the agent's keys are not
// offered, only the configured key files; without it the agent's are.
func TestKeysOnly(t *testing.T) {
	cl := newClient(t)
	agentKey := newKeyPair(t)
	srv := newTestServer(t, agentKey.pub) // trusts only the agent's key
	cl.trust(t, srv)
	opts := cl.opts() // KeyFiles: the client's own key, which srv refuses
	opts.AgentSocket = serveAgent(t, agentKey.priv)
	dialTB(t, srv.addr, opts)
	opts.KeysOnly = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := Dial(ctx, srv.addr, opts); !errors.Is(err, ErrAuth) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("keys_only: dial with only the agent's key trusted: %v, want ErrAuth", err)
	}
}

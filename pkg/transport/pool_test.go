package transport

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPool(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	cl.trust(t, srv)
	p, err := NewPool(cl.opts())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Concurrent Gets share one lazily dialled connection.
	if srv.accepted.Load() != 0 {
		t.Fatal("NewPool dialled eagerly")
	}
	conns := make([]*Conn, 8)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.Get(ctx, srv.addr)
			if err != nil {
				t.Error(err)
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	for _, c := range conns {
		if c != conns[0] {
			t.Fatal("Get returned different connections for one host")
		}
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Fatalf("server accepted %d connections, want 1", n)
	}

	// A dead connection is replaced on the next Get.
	srv.drop()
	deadline := time.Now().Add(5 * time.Second)
	for !conns[0].Closed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !conns[0].Closed() {
		t.Fatal("connection not seen as closed after the server dropped it")
	}
	c2, err := p.Get(ctx, srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	if c2 == conns[0] {
		t.Fatal("dead connection returned again")
	}
	if n := srv.accepted.Load(); n != 2 {
		t.Fatalf("server accepted %d connections, want 2", n)
	}
	if out, err := c2.Output(ctx, "echo again"); err != nil || string(out) != "again\n" {
		t.Fatalf("Output on redialled connection: %q %v", out, err)
	}

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !c2.Closed() {
		t.Error("Close left a connection open")
	}
	if _, err := p.Get(ctx, srv.addr); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Get after Close: %v", err)
	}
}

func TestPoolEach(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	cl.trust(t, srv)
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	opts := cl.opts()
	opts.MaxParallel = 1
	p, err := NewPool(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var mu sync.Mutex
	running, maxRunning := 0, 0
	errs := p.Each(ctx, []string{srv.addr, dead, srv.addr + "x"}, func(ctx context.Context, c *Conn) error {
		mu.Lock()
		running++
		maxRunning = max(maxRunning, running)
		mu.Unlock()
		defer func() { mu.Lock(); running--; mu.Unlock() }()
		_, err := c.Output(ctx, "true")
		return err
	})
	if errs[0] != nil {
		t.Errorf("good host: %v", errs[0])
	}
	var he *HostError
	if !errors.As(errs[1], &he) || he.Host != dead {
		t.Errorf("dead host error %v does not name %s", errs[1], dead)
	}
	if errs[2] == nil {
		t.Error("bad host spec: no error")
	}
	if maxRunning > 1 {
		t.Errorf("%d hosts ran at once with MaxParallel 1", maxRunning)
	}
}

// freezer is a TCP proxy in front of a server that can stop forwarding, as a
// host that vanished without closing its connections would.
type freezer struct {
	addr   string
	frozen chan struct{}
}

func newFreezer(tb testing.TB, target string) *freezer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	f := &freezer{addr: ln.Addr().String(), frozen: make(chan struct{})}
	var conns []net.Conn
	var mu sync.Mutex
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if err != nil {
						return
					}
					select {
					case <-f.frozen:
						continue // swallow: the peer never answers
					default:
					}
					if _, err := dst.Write(buf[:n]); err != nil {
						return
					}
				}
			}
			go pipe(out, in)
			go pipe(in, out)
		}
	}()
	return f
}

func TestKeepaliveClosesDeadConnection(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	fz := newFreezer(t, srv.addr)
	// known_hosts entry for the proxy's address with the server's key.
	srvAtProxy := &testServer{addr: fz.addr, hostKey: srv.hostKey}
	cl.trust(t, srvAtProxy)

	opts := cl.opts()
	opts.Keepalive = 150 * time.Millisecond
	c := dialTB(t, fz.addr, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Output(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	// Answered keepalives keep it open.
	for range 3 {
		select {
		case <-c.done:
			t.Fatal("live connection closed by keepalive")
		case <-time.After(opts.Keepalive):
		}
	}
	close(fz.frozen)
	start := time.Now()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("dead connection still open after 5s")
	}
	if d := time.Since(start); d < time.Duration(DefaultKeepaliveMax-1)*opts.Keepalive {
		t.Errorf("closed after %v, before %d keepalives were missed", d, DefaultKeepaliveMax)
	}
	detect := time.Since(start)
	if max := time.Duration(DefaultKeepaliveMax+1) * opts.Keepalive; detect > max+time.Second {
		t.Errorf("closed %v after the host went silent, want about %v", detect, max)
	}
	t.Logf("silent host detected after %v (keepalive %v, %d misses)", detect, opts.Keepalive, DefaultKeepaliveMax)
	// A Run on it fails at once, saying which host was lost, instead of hanging.
	_, err := c.Output(ctx, "true")
	var lost *LostError
	if !errors.Is(err, ErrConnectionLost) || !errors.As(err, &lost) || lost.Host != fz.addr || lost.Silent < opts.Keepalive {
		t.Errorf("Output on a dead connection: want a LostError for %s after some silence, got %v", fz.addr, err)
	}
	if _, err := c.DialUnix(ctx, "/run/x.sock"); !errors.Is(err, ErrConnectionLost) {
		t.Errorf("DialUnix on a dead connection: want ErrConnectionLost, got %v", err)
	}
}

// TestDefaultKeepaliveDetectsWithin10s: the defaults give up on a silent
// host well within the 10 s a partitioned deploy may take to notice.
func TestDefaultKeepaliveDetectsWithin10s(t *testing.T) {
	o := Options{}.withDefaults()
	// Worst case: the host goes silent just after a tick, then max misses.
	if worst := o.Keepalive * time.Duration(DefaultKeepaliveMax+1); worst > 10*time.Second {
		t.Fatalf("default keepalive %v x %d gives up after up to %v, over 10 s", o.Keepalive, DefaultKeepaliveMax, worst)
	}
}

// TestKeepaliveSparesATalkingHost: a host whose keepalive replies are late
// but which keeps sending is not given up on; once it falls silent, it is.
func TestKeepaliveSparesATalkingHost(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	cl.trust(t, srv)
	opts := cl.opts()
	opts.Keepalive = 100 * time.Millisecond
	c := dialTB(t, srv.addr, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.muteKeepalives.Store(true)
	// Output for well over DefaultKeepaliveMax intervals, keepalives unanswered.
	out, err := c.Output(ctx, "i=0; while [ $i -lt 20 ]; do echo tick; sleep 0.05; i=$((i+1)); done")
	if err != nil || strings.Count(string(out), "tick") != 20 {
		t.Fatalf("a talking host was given up on: %v (%d ticks)", err, strings.Count(string(out), "tick"))
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("a silent host with unanswered keepalives is still connected after 5 s")
	}
	var lost *LostError
	if _, err := c.Output(ctx, "true"); !errors.As(err, &lost) || lost.Silent == 0 {
		t.Errorf("after the silence: want a LostError with the silence, got %v", err)
	}
}

// TestDialGivesUpOnASilentHost: a host cut off during the SSH handshake
// is given up on as lost once it owes an answer for handshakeSilence, not
// after the whole connect timeout.
func TestDialGivesUpOnASilentHost(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	fz := newFreezer(t, srv.addr)
	cl.trust(t, &testServer{addr: fz.addr, hostKey: srv.hostKey})
	close(fz.frozen) // the TCP connect is answered, then nothing

	opts := cl.opts()
	opts.Keepalive = 100 * time.Millisecond
	opts.ConnectTimeout = 20 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	c, err := Dial(ctx, fz.addr, opts)
	took := time.Since(start)
	if err == nil {
		c.Close()
		t.Fatal("dial of a silent host succeeded")
	}
	var lost *LostError
	if !errors.Is(err, ErrConnectionLost) || !errors.As(err, &lost) || lost.Host != fz.addr || !errors.Is(err, errDialSilent) {
		t.Fatalf("want a LostError for %s saying it went silent, got %v", fz.addr, err)
	}
	if limit := opts.handshakeSilence(); took < limit || took > limit+2*time.Second {
		t.Errorf("gave up after %v, want about %v (not the %v connect timeout)", took, limit, opts.ConnectTimeout)
	}
	t.Logf("silent handshake given up after %v: %v", took.Round(10*time.Millisecond), err)
}

func TestDialWatchOwesOnlyWhileWaitingOnTheHost(t *testing.T) {
	var w dialWatch
	if w.overdue() != 0 {
		t.Fatal("owed before asking")
	}
	w.asked()
	first := w.owed.Load()
	w.asked() // a second write before any answer keeps the first's time
	if w.owed.Load() != first || w.overdue() <= 0 {
		t.Fatalf("after asking: owed since %d (first %d), overdue %v", w.owed.Load(), first, w.overdue())
	}
	w.answered()
	if w.overdue() != 0 {
		t.Fatal("still owed after an answer")
	}
}

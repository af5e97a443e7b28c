package transport

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Kamal's ssh.key_data: a key held in memory authenticates without any key
// file or agent; a bad one is named by position, never shown.
func TestKeyData(t *testing.T) {
	cl := newClient(t)
	mem := newKeyPair(t)
	srv := newTestServer(t, mem.pub)
	cl.trust(t, srv)
	block, err := ssh.MarshalPrivateKey(mem.priv, "")
	if err != nil {
		t.Fatal(err)
	}
	opts := cl.opts()
	opts.KeyFiles = nil
	opts.KeyData = [][]byte{pemEncode(block)}
	c := dialTB(t, srv.addr, opts)
	if out, err := c.Output(context.Background(), "echo ok"); err != nil || string(out) != "ok\n" {
		t.Fatalf("Output = %q, %v", out, err)
	}

	opts.KeyData = [][]byte{[]byte("not-a-key-but-maybe-a-secret")}
	_, err = Dial(context.Background(), srv.addr, opts)
	if !errors.Is(err, errNoUsableKey) || !strings.Contains(err.Error(), "ssh.key_data[0]") {
		t.Fatalf("got %v, want errNoUsableKey naming ssh.key_data[0]", err)
	}
	if strings.Contains(err.Error(), "maybe-a-secret") {
		t.Errorf("the error shows the key data: %v", err)
	}
}

// Kamal's ssh.forward_agent: each command's session asks for forwarding and
// the host reaches the local agent through it; off, it never asks; a host
// that refuses still runs the command.
func TestForwardAgent(t *testing.T) {
	cl := newClient(t)
	agentKey := newKeyPair(t)
	srv := newTestServer(t, cl.pub)
	cl.trust(t, srv)
	opts := cl.opts()
	opts.AgentSocket = serveAgent(t, agentKey.priv)

	run := func(o Options) {
		t.Helper()
		c := dialTB(t, srv.addr, o)
		if out, err := c.Output(context.Background(), "echo ok"); err != nil || string(out) != "ok\n" {
			t.Fatalf("Output = %q, %v", out, err)
		}
		c.Close()
	}
	agentKeys := func() []int {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return append([]int(nil), srv.agentKeys...)
	}

	run(opts)
	if got := agentKeys(); len(got) != 0 {
		t.Fatalf("forward_agent off: the host was offered the agent (%v)", got)
	}
	opts.ForwardAgent = true
	run(opts)
	if got := agentKeys(); !reflect.DeepEqual(got, []int{1}) {
		t.Fatalf("forward_agent on: host listed %v keys through the forwarded agent, want [1]", got)
	}
	srv.mu.Lock()
	srv.refuseAgent = true
	srv.mu.Unlock()
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	run(opts)
	if !strings.Contains(logs.String(), "agent forwarding refused") {
		t.Errorf("a refused forwarding was not logged: %q", logs.String())
	}
}

// Kamal's ssh.log_level: debug shows each hop's connect, the default logs
// nothing; neither shows key material.
func TestLogLevel(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	cl.trust(t, srv)
	opts := cl.opts()
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dialTB(t, srv.addr, opts)
	for _, want := range []string{"ssh connect", "ssh connected", "user=deploy"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("debug log lacks %q:\n%s", want, logs.String())
		}
	}
	logs.Reset()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))
	dialTB(t, srv.addr, opts)
	if logs.Len() != 0 {
		t.Errorf("error level logged a successful connect: %q", logs.String())
	}
}

// BeforeConnect (Kamal's pre-connect hook) runs once before the pool's
// first dial, however many hosts dial at once; its error fails the dials.
func TestPoolBeforeConnectOnce(t *testing.T) {
	cl := newClient(t)
	a, b := newTestServer(t, cl.pub), newTestServer(t, cl.pub)
	cl.trust(t, a, b)
	calls := 0
	opts := cl.opts()
	opts.BeforeConnect = func(context.Context) error { calls++; return nil }
	p, err := NewPool(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, e := range p.Each(context.Background(), []string{a.addr, b.addr}, func(context.Context, *Conn) error { return nil }) {
		if e != nil {
			t.Fatal(e)
		}
	}
	if calls != 1 {
		t.Fatalf("BeforeConnect ran %d times, want once", calls)
	}

	// The server counts a connection once its handshake is done, which
	// may be just after the client's Get returned.
	for deadline := time.Now().Add(5 * time.Second); a.conns.Load() != 1 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	errHook := errors.New("pre-connect failed")
	opts.BeforeConnect = func(context.Context) error { return errHook }
	p2, err := NewPool(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	if _, err := p2.Get(context.Background(), a.addr); !errors.Is(err, errHook) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if a.conns.Load() != 1 {
		t.Errorf("a dial happened after the hook failed (%d connections)", a.conns.Load())
	}
}

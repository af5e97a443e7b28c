package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// transportOptions reaches fleet hosts through the harness's ssh_config
// (HostName, User, IdentityFile, UserKnownHostsFile), with no agent.
func transportOptions(f *harness.Fleet) transport.Options {
	return transport.Options{ConfigFile: f.SSHConfig, AgentSocket: "none", ConnectTimeout: 10 * time.Second}
}

// TestTransportOpenSSH drives pkg/transport against the hosts' real OpenSSH.
func TestTransportOpenSSH(t *testing.T) {
	f := harness.StartHosts(t, 2)
	h := f.Hosts[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	pool, err := transport.NewPool(transportOptions(f))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	conn, err := pool.Get(ctx, h.Name)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("run and exit codes", func(t *testing.T) {
		out, err := conn.Output(ctx, transport.Quote("sh", "-c", "hostname; echo \"$1\"", "sh", "it's ok"))
		if err != nil || string(out) != h.Name+"\nit's ok\n" {
			t.Fatalf("Output = %q, %v", out, err)
		}
		_, err = conn.Output(ctx, "echo boom >&2; exit 7")
		var ee *transport.ExitError
		if !errors.As(err, &ee) || ee.Code != 7 || ee.Stderr != "boom" {
			t.Fatalf("exit 7: %#v", err)
		}
	})

	t.Run("docker socket over the connection", func(t *testing.T) {
		hc := conn.HTTPClient("/var/run/docker.sock")
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "OK" {
			t.Fatalf("GET /_ping: %d %q", resp.StatusCode, body)
		}
		t.Logf("GET /_ping over forwarded unix socket: %v", time.Since(start))
	})

	// Debian's sshd refuses "signal" requests from root sessions ("session
	// signalling requires privilege separation"), so what cancel guarantees
	// is that Run returns at once and the channel closes: a command still
	// writing output dies at its next write (SIGPIPE).
	t.Run("cancel closes the session", func(t *testing.T) {
		count := func() string {
			t.Helper()
			out, err := h.Exec(ctx, "sh", "-c", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done 2>/dev/null | grep -a -c '[k]amal-e2e-cancel' || true")
			if err != nil {
				t.Fatal(err)
			}
			return strings.TrimSpace(out)
		}
		waitCount := func(want string) {
			t.Helper()
			deadline := time.Now().Add(10 * time.Second)
			for got := count(); got != want; got = count() {
				if time.Now().After(deadline) {
					t.Fatalf("%s remote commands running after 10s, want %s", got, want)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		cctx, ccancel := context.WithCancel(ctx)
		defer ccancel()
		done := make(chan error, 1)
		go func() {
			done <- conn.Run(cctx, "while :; do echo tick; sleep 0.1; done # kamal-e2e-cancel", nil, io.Discard, nil)
		}()
		waitCount("1")
		ccancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want Canceled", err)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("Run did not return within 3s of cancel")
		}
		waitCount("0")
		if out, err := conn.Output(ctx, "echo alive"); err != nil || string(out) != "alive\n" {
			t.Fatalf("connection after cancel: %q %v", out, err)
		}
	})

	t.Run("jump host", func(t *testing.T) {
		opts := transportOptions(f)
		opts.Proxy = "root@" + f.Hosts[1].Name // Kamal's ssh.proxy
		c, err := transport.Dial(ctx, h.Name, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		out, err := c.Output(ctx, "hostname; echo $SSH_CLIENT")
		if err != nil {
			t.Fatal(err)
		}
		// The target sees the connection coming from the jump host.
		lines := strings.Fields(string(out))
		if len(lines) < 2 || lines[0] != h.Name || lines[1] != f.Hosts[1].Addr.String() {
			t.Fatalf("via %s: got %q, want %s reached from %s", f.Hosts[1].Name, out, h.Name, f.Hosts[1].Addr)
		}
	})

	t.Run("unknown host", func(t *testing.T) {
		opts := transportOptions(f)
		opts.KnownHostsFiles = []string{filepath.Join(t.TempDir(), "known_hosts")}
		_, err := transport.Dial(ctx, h.Name, opts)
		if !errors.Is(err, transport.ErrUnknownHost) || !strings.Contains(err.Error(), "accept-new") {
			t.Fatalf("got %v, want ErrUnknownHost", err)
		}
		opts.AcceptNewHostKeys = true
		c, err := transport.Dial(ctx, h.Name, opts)
		if err != nil {
			t.Fatalf("accept-new: %v", err)
		}
		c.Close()
		data, _ := os.ReadFile(opts.KnownHostsFiles[0])
		if !strings.HasPrefix(string(data), h.Addr.String()+" ") {
			t.Fatalf("known_hosts after accept-new: %q", data)
		}
	})

	t.Run("changed host key aborts", func(t *testing.T) {
		keys, err := h.HostKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Every key type the host has, each with a different key.
		var kh strings.Builder
		for _, k := range keys {
			other := otherKeyOfType(t, k.Type())
			if other == nil {
				continue
			}
			kh.WriteString(knownhosts.Line([]string{h.Addr.String()}, other) + "\n")
		}
		opts := transportOptions(f)
		opts.AcceptNewHostKeys = true // never applies to a changed key
		opts.KnownHostsFiles = []string{filepath.Join(t.TempDir(), "known_hosts")}
		if err := os.WriteFile(opts.KnownHostsFiles[0], []byte(kh.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = transport.Dial(ctx, h.Name, opts)
		if !errors.Is(err, transport.ErrHostKeyChanged) || !strings.Contains(err.Error(), "HOST KEY CHANGED") {
			t.Fatalf("got %v, want ErrHostKeyChanged", err)
		}
	})
}

// otherKeyOfType returns a fresh public key of the given type, or nil for
// types the test does not make.
func otherKeyOfType(tb testing.TB, typ string) ssh.PublicKey {
	tb.Helper()
	var pub any
	switch typ {
	case ssh.KeyAlgoED25519:
		p, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		pub = p
	case ssh.KeyAlgoRSA:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		pub = &k.PublicKey
	case ssh.KeyAlgoECDSA256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		pub = &k.PublicKey
	default:
		return nil
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

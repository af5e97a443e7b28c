package transport

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }

// client is a user with a key file and a known_hosts file in a fresh HOME.
type client struct {
	dir        string
	keyFile    string
	pub        ssh.PublicKey
	knownHosts string
}

func newClient(tb testing.TB) *client {
	tb.Helper()
	dir := tb.TempDir()
	tb.Setenv("HOME", dir)
	tb.Setenv("SSH_AUTH_SOCK", "")
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return &client{
		dir:        dir,
		keyFile:    writeKey(tb, dir, "id_test", priv),
		pub:        pub,
		knownHosts: filepath.Join(dir, "known_hosts"),
	}
}

func (c *client) opts() Options {
	return Options{
		User:            "deploy",
		KeyFiles:        []string{c.keyFile},
		KnownHostsFiles: []string{c.knownHosts},
		ConfigFile:      "none",
		AgentSocket:     "none",
		ConnectTimeout:  5 * time.Second,
	}
}

func (c *client) trust(tb testing.TB, servers ...*testServer) {
	tb.Helper()
	f, err := os.OpenFile(c.knownHosts, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	for _, s := range servers {
		if _, err := f.WriteString(s.knownHostsLine()); err != nil {
			tb.Fatal(err)
		}
	}
}

func dialTB(tb testing.TB, host string, opts Options) *Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, host, opts)
	if err != nil {
		tb.Fatalf("Dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func TestHostKeyChecking(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	ctx := context.Background()

	// Unknown host, no accept-new: refused with a clear, testable error.
	_, err := Dial(ctx, srv.addr, cl.opts())
	if !errors.Is(err, ErrUnknownHost) {
		t.Fatalf("unknown host: got %v, want ErrUnknownHost", err)
	}
	for _, want := range []string{"host key for [127.0.0.1]:", "is not in ~/known_hosts", "--accept-new-host-keys", "SHA256:", "`ssh -p " + strconv.Itoa(srv.port()) + " 127.0.0.1`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("unknown host message %q lacks %q", err, want)
		}
	}
	var he *HostError
	if !errors.As(err, &he) || he.Host != srv.addr {
		t.Errorf("error is not a HostError naming %s: %#v", srv.addr, err)
	}
	if srv.conns.Load() != 0 {
		t.Errorf("server authenticated %d connections for an unknown host", srv.conns.Load())
	}

	// Accept-new: connects and records the key.
	opts := cl.opts()
	opts.AcceptNewHostKeys = true
	c := dialTB(t, srv.addr, opts)
	c.Close()
	data, err := os.ReadFile(cl.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != srv.knownHostsLine() {
		t.Fatalf("known_hosts = %q, want %q", data, srv.knownHostsLine())
	}

	// Now known: strict mode connects.
	dialTB(t, srv.addr, cl.opts()).Close()

	// Changed key: a new server on the same address with another host key.
	other := newKey(t)
	if err := os.WriteFile(cl.knownHosts, []byte(strings.Replace(srv.knownHostsLine(),
		strings.Fields(srv.knownHostsLine())[2], base64Key(other.PublicKey()), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, accept := range []bool{false, true} {
		opts := cl.opts()
		opts.AcceptNewHostKeys = accept
		_, err = Dial(ctx, srv.addr, opts)
		if !errors.Is(err, ErrHostKeyChanged) {
			t.Fatalf("changed key (accept-new %v): got %v, want ErrHostKeyChanged", accept, err)
		}
		if !strings.Contains(err.Error(), "HOST KEY CHANGED") || !strings.Contains(err.Error(), "known_hosts:1") {
			t.Errorf("changed key message: %q", err)
		}
	}
	after, _ := os.ReadFile(cl.knownHosts)
	if strings.Count(string(after), "\n") != 1 {
		t.Errorf("known_hosts was modified on a changed key:\n%s", after)
	}
}

func base64Key(k ssh.PublicKey) string {
	return strings.Fields(string(ssh.MarshalAuthorizedKey(k)))[1]
}

func TestAuth(t *testing.T) {
	cl := newClient(t)
	agentKey := newKeyPair(t)
	srv := newTestServer(t, cl.pub, agentKey.pub)
	cl.trust(t, srv)

	t.Run("key file", func(t *testing.T) {
		c := dialTB(t, srv.addr, cl.opts())
		out, err := c.Output(context.Background(), "echo ok")
		if err != nil || string(out) != "ok\n" {
			t.Fatalf("Output = %q, %v", out, err)
		}
	})

	t.Run("agent", func(t *testing.T) {
		sock := serveAgent(t, agentKey.priv)
		opts := cl.opts()
		opts.KeyFiles = nil
		opts.AgentSocket = sock
		dialTB(t, srv.addr, opts)
		// $SSH_AUTH_SOCK is the default.
		t.Setenv("SSH_AUTH_SOCK", sock)
		opts.AgentSocket = ""
		dialTB(t, srv.addr, opts)
	})

	t.Run("default key files", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Join(cl.dir, ".ssh"), 0o700); err != nil {
			t.Fatal(err)
		}
		writeKey(t, filepath.Join(cl.dir, ".ssh"), "id_ed25519", agentKey.priv)
		defer os.Remove(filepath.Join(cl.dir, ".ssh", "id_ed25519"))
		opts := cl.opts()
		opts.KeyFiles = nil
		dialTB(t, srv.addr, opts)
	})

	t.Run("refused key", func(t *testing.T) {
		stranger := newKeyPair(t)
		opts := cl.opts()
		opts.KeyFiles = []string{writeKey(t, t.TempDir(), "id_other", stranger.priv)}
		_, err := Dial(context.Background(), srv.addr, opts)
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("got %v, want ErrAuth", err)
		}
		if !strings.Contains(err.Error(), `user "deploy"`) {
			t.Errorf("auth error does not name the user: %v", err)
		}
	})

	t.Run("no keys at all", func(t *testing.T) {
		opts := cl.opts()
		opts.KeyFiles = nil
		_, err := Dial(context.Background(), srv.addr, opts)
		if !errors.Is(err, errNoUsableKey) {
			t.Fatalf("got %v, want errNoUsableKey", err)
		}
	})
}

type keyPair struct {
	priv ed25519.PrivateKey
	pub  ssh.PublicKey
}

func newKeyPair(tb testing.TB) keyPair {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		tb.Fatal(err)
	}
	return keyPair{priv, pub}
}

// serveAgent runs an ssh-agent holding key on a unix socket.
func serveAgent(tb testing.TB, key ed25519.PrivateKey) string {
	tb.Helper()
	return serveKeyring(tb, keyring(tb, key))
}

// keyring is an agent holding key.
func keyring(tb testing.TB, key ed25519.PrivateKey) agent.Agent {
	tb.Helper()
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		tb.Fatal(err)
	}
	return kr
}

// serveKeyring serves kr as an ssh-agent on a unix socket.
func serveKeyring(tb testing.TB, kr agent.Agent) string {
	tb.Helper()
	sock := filepath.Join(shortTempDir(tb), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	return sock
}

// shortTempDir is a temp dir with a path short enough for a unix socket.
func shortTempDir(tb testing.TB) string {
	tb.Helper()
	d, err := os.MkdirTemp("/tmp", "tr")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestRun(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	cl.trust(t, srv)
	c := dialTB(t, srv.addr, cl.opts())
	ctx := context.Background()

	tests := []struct {
		name     string
		cmd      string
		stdin    string
		stdout   string
		stderr   string
		exitCode int // -1: no error
	}{
		{"success", "echo hello", "", "hello\n", "", -1},
		{"exit code", "echo out; echo err >&2; exit 3", "", "out\n", "err\n", 3},
		{"stdin", "tr a-z A-Z", "shout", "SHOUT", "", -1},
		{"quoted args", Quote("printf", "%s|", "a b", "it's", ""), "", "a b|it's||", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdin io.Reader
			if tt.stdin != "" {
				stdin = strings.NewReader(tt.stdin)
			}
			var out, errOut bytes.Buffer
			err := c.Run(ctx, tt.cmd, stdin, &out, &errOut)
			if tt.exitCode < 0 && err != nil {
				t.Fatalf("Run: %v", err)
			}
			if tt.exitCode >= 0 {
				var ee *ExitError
				if !errors.As(err, &ee) || ee.Code != tt.exitCode {
					t.Fatalf("Run error = %v, want exit %d", err, tt.exitCode)
				}
			}
			if out.String() != tt.stdout || errOut.String() != tt.stderr {
				t.Errorf("stdout %q stderr %q, want %q %q", out.String(), errOut.String(), tt.stdout, tt.stderr)
			}
		})
	}

	t.Run("output carries stderr on failure", func(t *testing.T) {
		_, err := c.Output(ctx, "echo 'no such image' >&2; exit 1")
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != 1 || ee.Stderr != "no such image" {
			t.Fatalf("got %#v", err)
		}
		if want := "remote command exited with status 1: no such image"; err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	})

	t.Run("concurrent sessions beyond MaxSessions", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 3*DefaultMaxSessions)
		for range 3 * DefaultMaxSessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := c.Output(ctx, "echo x")
				if err == nil && string(out) != "x\n" {
					err = errors.New("bad output " + string(out))
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("context cancel stops the command", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.Run(ctx, "sleep 30", nil, nil, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Run returned after %v", d)
		}
		// The server handles the signal request asynchronously: poll.
		sigs := ""
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			srv.mu.Lock()
			sigs = strings.Join(srv.signals, ",")
			srv.mu.Unlock()
			if sigs != "" {
				break
			}
		}
		if sigs != "TERM" {
			t.Errorf("server got signals %q, want TERM", sigs)
		}
		// The connection is still usable.
		if out, err := c.Output(context.Background(), "echo still"); err != nil || string(out) != "still\n" {
			t.Fatalf("after cancel: %q, %v", out, err)
		}
	})

	t.Run("tty", func(t *testing.T) {
		var out bytes.Buffer
		if err := c.RunTTY(ctx, "echo tty", nil, &out, &out); err != nil {
			t.Fatal(err)
		}
		srv.mu.Lock()
		ptys := srv.ptys
		srv.mu.Unlock()
		if ptys != 1 || out.String() != "tty\n" {
			t.Fatalf("ptys %d out %q", ptys, out.String())
		}
	})
}

func TestDialUnixAndHTTP(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	cl.trust(t, srv)
	c := dialTB(t, srv.addr, cl.opts())

	sock := filepath.Join(shortTempDir(t), "sidecar.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Method+" "+r.URL.Path)
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hc := c.HTTPClient(sock)
	for i := range 3 { // reuses the forwarded stream
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://sidecar/_ping", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "GET /_ping" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if c.HTTPClient(sock) != hc {
		t.Error("HTTPClient returned a new client for the same socket")
	}
	srv.mu.Lock()
	fw := strings.Join(srv.forwards, ",")
	srv.mu.Unlock()
	if fw != "unix:"+sock {
		t.Errorf("forwards %q, want one to %s", fw, sock)
	}

	var refused *ssh.OpenChannelError
	if _, err := c.DialUnix(ctx, "/nonexistent/sock"); !errors.As(err, &refused) || refused.Reason != ssh.ConnectionFailed {
		t.Errorf("dial missing socket: %v, want an OpenChannelError (connect failed)", err)
	}
}

func TestProxyJump(t *testing.T) {
	cl := newClient(t)
	jump := newTestServer(t, cl.pub)
	app := newTestServer(t, cl.pub)
	cl.trust(t, jump, app)

	opts := cl.opts()
	opts.Proxy = "bastion@" + jump.addr
	c := dialTB(t, app.addr, opts)
	out, err := c.Output(context.Background(), "echo via")
	if err != nil || string(out) != "via\n" {
		t.Fatalf("Output = %q, %v", out, err)
	}
	jump.mu.Lock()
	jumpForwards, jumpUsers := jump.forwards, jump.users
	jump.mu.Unlock()
	app.mu.Lock()
	appUsers := app.users
	app.mu.Unlock()
	if len(jumpForwards) != 1 || jumpForwards[0] != "tcp:"+app.addr {
		t.Errorf("jump host forwards %v, want tcp:%s", jumpForwards, app.addr)
	}
	if len(jumpUsers) == 0 || jumpUsers[0] != "bastion" {
		t.Errorf("jump host users %v, want bastion", jumpUsers)
	}
	if len(appUsers) == 0 || appUsers[0] != "deploy" {
		t.Errorf("app host users %v, want deploy", appUsers)
	}

	// The jump host's key is checked too.
	os.WriteFile(cl.knownHosts, []byte(app.knownHostsLine()), 0o600)
	_, err = Dial(context.Background(), app.addr, opts)
	var hkErr *HostKeyError
	if !errors.Is(err, ErrUnknownHost) || !errors.As(err, &hkErr) || hkErr.Host != knownhosts.Normalize(jump.addr) {
		t.Errorf("unknown jump host: %v, want ErrUnknownHost for %s", err, knownhosts.Normalize(jump.addr))
	}
}

func TestSSHConfig(t *testing.T) {
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	cl.trust(t, srv)
	cfg := filepath.Join(cl.dir, "config")
	body := "Host web1\n  HostName 127.0.0.1\n  Port " + strconv.Itoa(srv.port()) + "\n  User cfguser\n" +
		"  IdentityFile " + cl.keyFile + "\n  UserKnownHostsFile " + cl.knownHosts + "\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{ConfigFile: cfg, AgentSocket: "none", ConnectTimeout: 5 * time.Second}
	c := dialTB(t, "web1", opts)
	if c.Host() != "web1" {
		t.Errorf("Host() = %q", c.Host())
	}
	srv.mu.Lock()
	users := strings.Join(srv.users, ",")
	srv.mu.Unlock()
	if users != "cfguser" {
		t.Errorf("users %q, want cfguser from the config", users)
	}

	// A missing explicit config is an error; a missing default one is not.
	opts.ConfigFile = filepath.Join(cl.dir, "nope")
	if _, err := Dial(context.Background(), "web1", opts); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing explicit config: %v, want ErrNotExist", err)
	}
	if _, err := NewPool(Options{}); err != nil {
		t.Errorf("missing default config: %v", err)
	}
}

func TestProxyCommand(t *testing.T) {
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("needs bash for /dev/tcp")
	}
	cl := newClient(t)
	srv := newTestServer(t, cl.pub)
	cl.trust(t, srv)
	host, port, _ := net.SplitHostPort(srv.addr)
	// bash as a netcat: %h and %p are expanded by the transport.
	nc := `/bin/bash -c 'exec 3<>/dev/tcp/%h/%p; cat <&3 & exec cat >&3'`

	t.Run("from the ssh config", func(t *testing.T) {
		cfg := filepath.Join(cl.dir, "config")
		body := "Host viaproxy\n  HostName " + host + "\n  Port " + port + "\n  ProxyCommand " + nc + "\n"
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		opts := cl.opts()
		opts.ConfigFile = cfg
		opts.Port = 0
		before := srv.accepted.Load()
		c := dialTB(t, "viaproxy", opts)
		if out, err := c.Output(context.Background(), "echo proxied"); err != nil || string(out) != "proxied\n" {
			t.Fatalf("Output = %q, %v", out, err)
		}
		if srv.accepted.Load() != before+1 {
			t.Errorf("server accepted %d connections, want 1", srv.accepted.Load()-before)
		}
	})

	t.Run("kamal ssh.proxy_command", func(t *testing.T) {
		opts := cl.opts()
		opts.ProxyCommand = nc
		c := dialTB(t, srv.addr, opts)
		if out, err := c.Output(context.Background(), "echo proxied"); err != nil || string(out) != "proxied\n" {
			t.Fatalf("Output = %q, %v", out, err)
		}
	})

	t.Run("failing command", func(t *testing.T) {
		opts := cl.opts()
		opts.ProxyCommand = "echo 'no route to bastion' >&2; exit 1"
		_, err := Dial(context.Background(), srv.addr, opts)
		// The command's output ended before the handshake did.
		if !errors.Is(err, io.EOF) || errors.Is(err, ErrAuth) {
			t.Fatalf("got %v, want the handshake to end on EOF", err)
		}
	})
}

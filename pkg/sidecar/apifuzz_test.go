package sidecar

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// apiCallTimeout bounds one request of the API driver; the fake host
// answers at once, so hitting it means a handler hung.
const apiCallTimeout = 10 * time.Second

// apiDriver sends raw requests to a server over its unix socket, the way a
// confused or hostile client would, and checks every answer: never a 5xx
// or a panic, every refusal a JSON error with a code and a message, and a
// refused request leaves the host and the journal as they were.
type apiDriver struct {
	t      testing.TB
	h      *fakeHost
	s      *Server
	client *http.Client
	sock   string

	mu   sync.Mutex
	gate *swapGate // the next swap to start blocks on it
}

// swapGate holds one swap inside the swapper until it is opened.
type swapGate struct{ entered, open chan struct{} }

// answer is what the server said to one request.
type answer struct {
	status int
	err    *contract.Error  // a 4xx body, or a stream's final error
	result *contract.Result // a stream's final result
}

func newAPIDriver(t testing.TB) *apiDriver {
	t.Helper()
	h := newFakeHost()
	s := NewServer(context.Background(), ServerConfig{StateDir: fastStateDir(t), Version: "test", Logger: slog.New(slog.DiscardHandler)}, h.deps())
	s.markReady() // nothing to reconcile
	d := &apiDriver{t: t, h: h, s: s}
	h.deploy = func(ctx context.Context, dep *contract.Deploy, emit func(contract.Event)) (*swap.Result, error) {
		if g := d.takeGate(); g != nil {
			close(g.entered)
			select {
			case <-g.open:
			case <-ctx.Done():
			}
		}
		return h.swap(ctx, dep, emit)
	}
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: panicGuard(t, s.APIHandler()), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "unix", sock)
	}}
	d.client = &http.Client{Transport: tr}
	d.sock = sock
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return d
}

// fastStateDir is a state directory in memory where the machine has one:
// every swap step journals with an fsync, which on a busy disk would slow
// the fuzzer to a few runs a second.
func fastStateDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "sidecar-fuzz-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove state dir: %v", err)
		}
	})
	return dir
}

// panicGuard fails the test on a handler panic, which net/http would
// otherwise swallow by closing the connection.
func panicGuard(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("%s %s panicked: %v\n%s", r.Method, r.URL.Path, p, debug.Stack())
				panic(http.ErrAbortHandler)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

func (d *apiDriver) takeGate() *swapGate {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.gate
	d.gate = nil
	return g
}

// snapshot is the fake host and the journal as text: containers and their
// states, routes, the calls made so far, and each role's record.
func (d *apiDriver) snapshot() string {
	d.h.mu.Lock()
	host := fmt.Sprint(d.h.state, d.h.routes, len(d.h.calls), len(d.h.loaded))
	d.h.mu.Unlock()
	var b strings.Builder
	b.WriteString(host)
	for _, rec := range d.s.table.list() {
		fmt.Fprintf(&b, "\n%s live=%s/%s stopped=%v last=%s/%s/%s", rec.Role, rec.LiveVersion, rec.LiveContainer, rec.Stopped,
			rec.LastAction, rec.LastVersion, rec.LastResult)
		if rec.Swap != nil {
			fmt.Fprintf(&b, " swap=%s/%s/%s", rec.Swap.Action, rec.Swap.Version, rec.Swap.State)
		}
	}
	return b.String()
}

// send makes one request and fails the test unless the answer has the
// right shape (see exchange).
func (d *apiDriver) send(method, path string, body []byte) answer {
	d.t.Helper()
	a, err := d.exchange(method, path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	return a
}

// exchange makes one request and checks the answer's shape: never a 5xx,
// a refusal is a JSON error that leaves the snapshot unchanged, a stream
// ends with a result or an API error. It touches no testing.TB, so it may
// run on any goroutine.
func (d *apiDriver) exchange(method, path string, body []byte) (answer, error) {
	before := d.snapshot()
	ctx, cancel := context.WithTimeout(context.Background(), apiCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://sidecar"+path, bytes.NewReader(body))
	if err != nil {
		return answer{}, fmt.Errorf("build %s %s: %w", method, path, err)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s (%d bytes %q): %w", method, path, len(body), clip(body), err)
	}
	defer func() { _ = resp.Body.Close() }()
	a := answer{status: resp.StatusCode}
	switch {
	case resp.StatusCode >= 500:
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return a, fmt.Errorf("%s %s answered %d to %q: %s", method, path, resp.StatusCode, clip(body), data)
	case resp.StatusCode >= 400:
		if a.err, err = readAPIError(resp.Body); err != nil {
			return a, fmt.Errorf("%s %s answered %d: %w", method, path, a.status, err)
		}
		if after := d.snapshot(); after != before {
			return a, fmt.Errorf("%s %s was refused (%d %s) but changed the host:\nbefore %s\nafter  %s", method, path, a.status, a.err.Code, before, after)
		}
	case resp.Header.Get("Content-Type") == contract.ContentTypeNDJSON:
		a.result, err = contract.ReadEvents(resp.Body, nil)
		if err != nil && !errors.As(err, &a.err) {
			return a, fmt.Errorf("%s %s: stream did not end with a result or an API error: %w", method, path, err)
		}
		if a.err != nil && a.err.Code == contract.CodeInternal {
			return a, fmt.Errorf("%s %s: swap failed with an internal error: %w", method, path, a.err)
		}
	}
	return a, nil
}

// readAPIError decodes a refusal's body, which must name a code and say why.
func readAPIError(r io.Reader) (*contract.Error, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read error body: %w", err)
	}
	var e contract.Error
	if err := json.Unmarshal(data, &e); err != nil || e.Code == "" || e.Message == "" {
		return nil, fmt.Errorf("error body is not a JSON error with code and message (%v): %s", err, data)
	}
	return &e, nil
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// want fails unless a has status (and, for a refusal, code).
func (d *apiDriver) want(a answer, what string, status int, code string) {
	d.t.Helper()
	if a.status != status {
		d.t.Fatalf("%s: status %d (%+v), want %d", what, a.status, a.err, status)
	}
	if code != "" && (a.err == nil || a.err.Code != code) {
		d.t.Fatalf("%s: error %+v, want code %s", what, a.err, code)
	}
}

func jsonBody(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

func (d *apiDriver) apply(version string) answer {
	return d.send(http.MethodPost, contract.PathApply, jsonBody(testSpec(version)))
}

func (d *apiDriver) rollback(version string) answer {
	return d.send(http.MethodPost, contract.PathRollback, jsonBody(contract.RollbackRequest{Role: webRole, Version: version}))
}

func (d *apiDriver) roleOp(path string) answer {
	return d.send(http.MethodPost, path, jsonBody(contract.RoleRequest{Role: webRole}))
}

func (d *apiDriver) lock(path, holder string) answer {
	return d.send(http.MethodPost, path, jsonBody(contract.LockRequest{Holder: holder}))
}

// retained reports whether the fake host still has app-web-<version>.
func (d *apiDriver) retained(version string) bool {
	d.h.mu.Lock()
	defer d.h.mu.Unlock()
	_, ok := d.h.state[contract.ContainerName("app", "web", "", version)]
	return ok
}

// duringSwap starts a deploy of version that blocks inside the swapper,
// runs fn while it is under way, then lets it finish.
func (d *apiDriver) duringSwap(version string, fn func()) {
	d.t.Helper()
	g := &swapGate{entered: make(chan struct{}), open: make(chan struct{})}
	d.mu.Lock()
	d.gate = g
	d.mu.Unlock()
	type outcome struct {
		a   answer
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		a, err := d.exchange(http.MethodPost, contract.PathApply, jsonBody(testSpec(version)))
		done <- outcome{a, err}
	}()
	select {
	case <-g.entered:
	case o := <-done:
		d.t.Fatalf("gated deploy of %s ended before it reached the swapper: %+v %v", version, o.a, o.err)
	case <-time.After(apiCallTimeout):
		d.t.Fatalf("gated deploy of %s never reached the swapper", version)
	}
	var once sync.Once
	openGate := func() { once.Do(func() { close(g.open) }) }
	defer openGate() // also when fn fails the test, so the swap can end
	fn()
	openGate()
	select {
	case o := <-done:
		if o.err != nil || o.a.status != http.StatusOK || o.a.err != nil {
			d.t.Fatalf("gated deploy of %s: %+v %v", version, o.a, o.err)
		}
	case <-time.After(apiCallTimeout):
		d.t.Fatalf("gated deploy of %s did not finish once opened", version)
	}
}

// rawTimeout bounds waiting for the answer to raw bytes: an incomplete
// request gets none, which is fine.
const rawTimeout = 500 * time.Millisecond

// raw writes data to a fresh connection to the socket as it is, not
// necessarily HTTP, and checks whatever comes back: no 5xx, and a
// refusal changes nothing.
func (d *apiDriver) raw(data []byte) {
	d.t.Helper()
	before := d.snapshot()
	c, err := net.DialTimeout("unix", d.sock, apiCallTimeout)
	if err != nil {
		d.t.Fatalf("dial the socket: %v", err)
	}
	defer func() { _ = c.Close() }() // done with it either way
	if err := c.SetDeadline(time.Now().Add(rawTimeout)); err != nil {
		d.t.Fatal(err)
	}
	if _, err := c.Write(data); err != nil {
		return // the server hung up on garbage: fine
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return // no answer (incomplete request) or a closed connection
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 500 {
		d.t.Fatalf("raw %q answered %d", clip(data), resp.StatusCode)
	}
	if resp.StatusCode >= 400 {
		if after := d.snapshot(); after != before {
			d.t.Fatalf("raw %q was refused (%d) but changed the host:\nbefore %s\nafter  %s", clip(data), resp.StatusCode, before, after)
		}
	}
}

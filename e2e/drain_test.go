package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// TestDrain deploys, through one host's sidecar, a sample app that exits at
// once on SIGTERM (EXIT_ON_SIGTERM=1, as many apps do), so nothing but the
// drain keeps an in-flight request alive: the sidecar must wait until
// Traefik has no connection to blue before it stops blue.
func TestDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	env := newSidecarEnv(t, ctx, "v1", "v2", "v3")
	const svc = "dr"
	for _, v := range []string{"v1", "v2", "v3"} {
		env.shipApp(t, ctx, v)
	}
	exitAtOnce := map[string]string{"EXIT_ON_SIGTERM": "1"}
	if _, err := env.api.Apply(ctx, env.appSpec(svc, "", "v1", "v1", exitAtOnce), nil); err != nil {
		t.Fatalf("apply v1: %v", err)
	}
	env.serving(t, ctx, svc, "", "v1")

	t.Run("5s request in flight across a deploy completes", func(t *testing.T) {
		g := env.load(t, ctx, svc, "")
		slow := env.slowRequest(t, ctx, svc, 5*time.Second)
		start := time.Now()
		drain := &drainEvents{}
		res, err := env.api.Apply(ctx, env.appSpec(svc, "", "v2", "v2", exitAtOnce), drain.add)
		if err != nil {
			t.Fatalf("apply v2: %v", err)
		}
		applied := time.Now()
		took := applied.Sub(start)
		a := slow.wait(t)
		t.Logf("deploy %s, drain-blue %s (%s); slow request: %d from %q after %s",
			took.Round(time.Millisecond), drain.elapsed(), drain.status(), a.status, a.version, a.took.Round(time.Millisecond))
		if a.err != nil || a.status != http.StatusOK || a.version != "v1" {
			t.Errorf("5s request on blue: status %d version %q err %v; want 200 from v1", a.status, a.version, a.err)
		}
		if drain.status() != contract.EventDone || len(res.Warnings) != 0 {
			t.Errorf("drain-blue %s, warnings %v; want done without warning", drain.status(), res.Warnings)
		}
		// The deploy returned after the request was answered: the drain held
		// blue for it.
		if !a.done.Before(applied) {
			t.Errorf("deploy returned %s before the request in flight was answered", a.done.Sub(applied))
		}
		stopLoad(t, g, "v1", "v2")
	})

	t.Run("drain_timeout bounds the wait", func(t *testing.T) {
		const drainTimeout = 2 * time.Second
		slow := env.slowRequest(t, ctx, svc, 20*time.Second)
		d := env.appSpec(svc, "", "v3", "v3", exitAtOnce)
		d.DrainTimeout = contract.Duration(drainTimeout)
		drain := &drainEvents{}
		start := time.Now()
		res, err := env.api.Apply(ctx, d, drain.add)
		if err != nil {
			t.Fatalf("apply v3: %v", err)
		}
		took := time.Since(start)
		a := slow.wait(t)
		t.Logf("deploy %s, drain-blue %s (%s, warnings %v); 20s request: status %d err %v after %s",
			took.Round(time.Millisecond), drain.elapsed(), drain.status(), res.Warnings, a.status, a.err, a.took.Round(time.Millisecond))
		if e := drain.elapsed(); e < drainTimeout || e > drainTimeout+time.Second {
			t.Errorf("drain-blue took %s, want the drain timeout %s", e, drainTimeout)
		}
		if !hasWarning(res.Warnings, "drain-blue") {
			t.Errorf("warnings %v: want drain-blue's timeout", res.Warnings)
		}
		// v2 exits at once on SIGTERM, so the stop costs nothing beyond the drain.
		if took > drainTimeout+15*time.Second {
			t.Errorf("deploy took %s, held beyond drain timeout %s and a prompt stop", took, drainTimeout)
		}
		if a.status == http.StatusOK || a.took > 15*time.Second {
			t.Errorf("20s request: status %d after %s; want it cut when blue stopped after the drain timeout", a.status, a.took)
		}
		env.serving(t, ctx, svc, "", "v3")
	})
}

func hasWarning(ws []string, step string) bool {
	for _, w := range ws {
		if strings.HasPrefix(w, step) {
			return true
		}
	}
	return false
}

// drainEvents records the drain-blue step's end.
type drainEvents struct {
	mu sync.Mutex
	ev contract.Event
}

func (d *drainEvents) add(e contract.Event) {
	if e.Step != "drain-blue" || (e.Status != contract.EventDone && e.Status != contract.EventFail) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ev = e
}

func (d *drainEvents) elapsed() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ev.Elapsed.D()
}

func (d *drainEvents) status() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ev.Status
}

// slowAnswer is how a slow request through Traefik ended.
type slowAnswer struct {
	status  int
	version string
	err     error
	took    time.Duration
	done    time.Time
}

type slowRequest struct{ c chan slowAnswer }

// slowRequest sends GET /sleep?ms=d through Traefik and returns once the
// request is written (so it is in flight on the serving container).
func (env *sidecarEnv) slowRequest(t *testing.T, ctx context.Context, service string, d time.Duration) *slowRequest {
	t.Helper()
	wrote := make(chan struct{})
	s := &slowRequest{c: make(chan slowAnswer, 1)}
	go func() {
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }}
		url := fmt.Sprintf("http://%s:80/sleep?ms=%d", env.h.Addr, d.Milliseconds())
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url, nil)
		req.Host = hostFor(service, "")
		start := time.Now()
		resp, err := (&http.Client{Timeout: d + 30*time.Second}).Do(req)
		a := slowAnswer{err: err}
		if err == nil {
			_, a.err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			a.status, a.version = resp.StatusCode, resp.Header.Get("X-App-Version")
		}
		a.took, a.done = time.Since(start), time.Now()
		s.c <- a
	}()
	select {
	case <-wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("slow request was not sent")
	}
	// The swap starts green and waits for it to be healthy before the
	// cutover, so Traefik has long passed the request on to blue by then.
	return s
}

func (s *slowRequest) wait(t *testing.T) slowAnswer {
	t.Helper()
	select {
	case a := <-s.c:
		return a
	case <-time.After(2 * time.Minute):
		t.Fatal("slow request never ended")
		return slowAnswer{}
	}
}

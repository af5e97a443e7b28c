package health

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func fast(deadline time.Duration) Options {
	return Options{Interval: 10 * time.Millisecond, Timeout: 200 * time.Millisecond, Deadline: deadline}
}

func TestHTTPBecomesHealthy(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/up" {
			http.NotFound(w, r)
			return
		}
		if hits.Add(1) < 4 {
			http.Error(w, "booting", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	var attempts []error
	o := fast(5 * time.Second)
	o.OnAttempt = func(n int, err error) { attempts = append(attempts, err) }
	if err := Wait(context.Background(), HTTP{URL: srv.URL + "/up"}, o); err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 4 || attempts[3] != nil || !strings.Contains(attempts[0].Error(), "503") {
		t.Fatalf("attempts = %v", attempts)
	}
}

func TestHTTPFailureReason(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    []string
	}{
		{"500 with body", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "database unreachable", http.StatusInternalServerError)
		}, []string{"500 Internal Server Error", "database unreachable"}},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://example.com/up", http.StatusMovedPermanently)
		}, []string{"301", "Location: https://example.com/up"}},
		{"long body truncated", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(strings.Repeat("x", 10000)))
		}, []string{"502"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			err := Wait(context.Background(), HTTP{URL: srv.URL + "/up"}, fast(150*time.Millisecond))
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if !errors.Is(err, ErrDeadline) || he.Attempts < 2 {
				t.Errorf("cause %v attempts %d", he.Cause, he.Attempts)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(err.Error()) > 2*maxReason+200 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestHTTPHostHeader(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "app.example.com" {
			http.Error(w, "wrong host "+r.Host, http.StatusMisdirectedRequest)
		}
	}))
	t.Cleanup(srv.Close)
	if err := Wait(context.Background(), HTTP{URL: srv.URL, Host: "app.example.com"}, fast(time.Second)); err != nil {
		t.Fatal(err)
	}
	err := Wait(context.Background(), HTTP{URL: srv.URL}, fast(50*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "wrong host") {
		t.Fatalf("without host header: %v", err)
	}
}

func TestHTTPPerAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	o := Options{Interval: 10 * time.Millisecond, Timeout: 50 * time.Millisecond, Deadline: 400 * time.Millisecond}
	start := time.Now()
	err := Wait(context.Background(), HTTP{URL: srv.URL}, o)
	var he *Error
	if !errors.As(err, &he) || he.Attempts < 3 {
		t.Fatalf("err = %v; want several timed-out attempts", err)
	}
	if !strings.Contains(he.Last.Error(), "deadline exceeded") {
		t.Errorf("last = %v, want a deadline error", he.Last)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("wait took %s, deadline was 400ms", d)
	}
}

func TestTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if err := Wait(context.Background(), TCP{Addr: addr}, fast(time.Second)); err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = Wait(context.Background(), TCP{Addr: addr}, fast(100*time.Millisecond))
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "tcp connect "+addr) {
		t.Fatalf("closed port: %v", err)
	}
}

// states returns a StateFunc that walks through the given states, repeating
// the last.
func states(s ...State) StateFunc {
	var i atomic.Int32
	return func(context.Context) (State, error) {
		n := int(i.Add(1)) - 1
		if n >= len(s) {
			n = len(s) - 1
		}
		return s[n], nil
	}
}

func TestDocker(t *testing.T) {
	up := State{Running: true, Status: "running"}
	with := func(h string) State { s := up; s.Health = h; return s }
	tests := []struct {
		name      string
		states    []State
		wantErr   string
		permanent bool
	}{
		{"starting then healthy", []State{with("starting"), with("starting"), with("healthy")}, "", false},
		{"stays unhealthy", []State{with("unhealthy")}, "health status unhealthy", false},
		{"no healthcheck", []State{up}, "no HEALTHCHECK", true},
		{"exits", []State{with("starting"), {Status: "exited", ExitCode: 3}}, "container is exited (exit code 3)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := Wait(context.Background(), Docker{Container: "c", State: states(tt.states...)}, fast(300*time.Millisecond))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v", IsPermanent(err))
			}
			if tt.permanent && time.Since(start) > 250*time.Millisecond {
				t.Errorf("a permanent failure should stop polling at once")
			}
		})
	}
}

func TestRunning(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	young := State{Running: true, Status: "running", StartedAt: now.Add(-2 * time.Second)}
	old := State{Running: true, Status: "running", StartedAt: now.Add(-8 * time.Second)}
	p := Running{Container: "c", Delay: 7 * time.Second, Now: clock}

	p.State = states(young)
	err := p.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "up for 2s of 7s") || IsPermanent(err) {
		t.Fatalf("young: %v", err)
	}
	p.State = states(old)
	if err := p.Check(context.Background()); err != nil {
		t.Fatalf("old: %v", err)
	}
	p.State = states(State{Status: "exited", ExitCode: 1})
	if err := p.Check(context.Background()); !IsPermanent(err) {
		t.Fatalf("exited: %v", err)
	}
}

func TestAliveStopsOnCrash(t *testing.T) {
	var probed atomic.Int32
	inner := Func(func(context.Context) error { probed.Add(1); return errors.New("connection refused") })
	p := Alive{State: states(State{Running: true}, State{Running: true}, State{Status: "exited", ExitCode: 2}), Probe: inner}
	err := Wait(context.Background(), p, fast(5*time.Second))
	var he *Error
	if !errors.As(err, &he) || !IsPermanent(err) || he.Attempts != 3 || probed.Load() != 2 {
		t.Fatalf("err = %v attempts=%d probed=%d", err, he.Attempts, probed.Load())
	}
	if !strings.Contains(err.Error(), "exit code 2") {
		t.Errorf("error %q should name the exit code", err)
	}
}

func TestWaitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	failing := Func(func(context.Context) error { return errors.New("nope") })
	done := make(chan error, 1)
	go func() { done <- Wait(ctx, failing, fast(time.Minute)) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrDeadline) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after cancel")
	}
}

func TestErrorUnwrap(t *testing.T) {
	last := errors.New("last")
	e := &Error{Probe: "p", Attempts: 2, Last: last, Cause: ErrDeadline}
	if !errors.Is(e, last) || !errors.Is(e, ErrDeadline) {
		t.Fatal("Unwrap must expose Last and Cause")
	}
	if got := e.Error(); got != "p not healthy after 2 attempts in 0s (deadline exceeded): last: last" {
		t.Errorf("Error() = %q", got)
	}
}

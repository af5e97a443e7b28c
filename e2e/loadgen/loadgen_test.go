package loadgen

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckTarget(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("10.213.7.0/24")}
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/", true},
		{"http://127.9.9.9/", true},
		{"http://localhost:3000/up", true},
		{"http://[::1]:80/", true},
		{"http://10.213.7.11/", true},
		{"https://10.213.7.12:443/x", true},
		{"http://10.213.8.11/", false},
		{"http://192.168.1.1/", false},
		{"http://8.8.8.8/", false},
		{"http://example.com/", false},
		{"ftp://127.0.0.1/", false},
	}
	for _, tt := range tests {
		err := CheckTarget(tt.url, allow)
		if (err == nil) != tt.ok {
			t.Errorf("CheckTarget(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if !tt.ok && tt.url != "ftp://127.0.0.1/" && !errors.Is(err, ErrTargetNotAllowed) {
			t.Errorf("CheckTarget(%q) = %v, want ErrTargetNotAllowed", tt.url, err)
		}
	}
}

func TestRunCountsVersionsAndStatuses(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		v := "v1"
		if i > 50 {
			v = "v2"
		}
		w.Header().Set("X-App-Version", v)
		if i == 10 || i == 20 {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()

	g, err := Start(context.Background(), Config{URL: srv.URL, Rate: 500, Count: 100, Duration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rep := g.Wait()
	// Served counts 2xx responses per version as they arrive.
	if got := g.Served("v1") + g.Served("v2"); got != 98 {
		t.Errorf("served v1 %d + v2 %d = %d, want 98", g.Served("v1"), g.Served("v2"), got)
	}
	s := rep.Summary
	if s.Total != 100 || s.OK != 98 || s.Non2xx != 2 || s.Errors != 0 {
		t.Fatalf("summary %+v; want 100 total, 98 ok, 2 non-2xx, 0 errors", s)
	}
	if s.Fresh != 50 {
		t.Errorf("fresh = %d, want 50 (default ratio 0.5)", s.Fresh)
	}
	if len(s.Versions) != 2 || s.Versions[0].Version == s.Versions[1].Version || s.Versions[0].Count+s.Versions[1].Count != 98 {
		t.Errorf("versions %+v; want two versions covering 98 requests", s.Versions)
	}
	if s.P50 <= 0 || s.P99 < s.P50 || s.Max < s.P99 {
		t.Errorf("latencies p50 %v p99 %v max %v not ordered", s.P50, s.P99, s.Max)
	}
	if len(rep.Failures()) != 2 {
		t.Errorf("failures = %d, want 2", len(rep.Failures()))
	}
	if s.String() == "" {
		t.Error("empty summary text")
	}
}

func TestRunStopsAtDurationAndKeepsRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	start := time.Now()
	rep, err := Run(context.Background(), Config{URL: srv.URL, Rate: 100, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("run took %v, want about 500ms", d)
	}
	if got := rep.Summary.Total; got < 30 || got > 55 {
		t.Errorf("sent %d requests in 500ms at 100/s, want about 50", got)
	}
}

func TestRunRecordsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	url := srv.URL
	srv.Close() // nothing listens any more
	rep, err := Run(context.Background(), Config{URL: url, Rate: 200, Count: 10, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Errors != 10 || rep.Summary.Statuses[0] != 10 || len(rep.Summary.FirstErrors) == 0 {
		t.Errorf("summary %+v; want 10 transport errors", rep.Summary)
	}
}

func TestInFlightRequestCompletesAfterStop(t *testing.T) {
	var started atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		time.Sleep(300 * time.Millisecond) // a slow response in flight at Stop
	}))
	defer srv.Close()
	g, err := Start(context.Background(), Config{URL: srv.URL, Rate: 10, Count: 1000, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for started.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no request reached the server within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	rep := g.Stop()
	if rep.Summary.Total == 0 || rep.Summary.OK != rep.Summary.Total {
		t.Errorf("summary %+v; want every started request to complete with 200", rep.Summary)
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// Tunables.
const (
	defaultPort            = "3000"
	defaultShutdownTimeout = 30 * time.Second
	checkTimeout           = 2 * time.Second
	maxSleep               = 5 * time.Minute
)

func envMillis(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want milliseconds", name, v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

func serve(ctx context.Context) error {
	if os.Getenv("CRASH_ON_START") == "1" {
		return errors.New("CRASH_ON_START=1: crashing on purpose")
	}
	slow, err := envMillis("SLOW_START_MS", 0)
	if err != nil {
		return err
	}
	drain, err := envMillis("SHUTDOWN_TIMEOUT_MS", defaultShutdownTimeout)
	if err != nil {
		return err
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = defaultPort
	}
	if slow > 0 {
		log.Printf("slow start: listening in %v", slow)
		select {
		case <-time.After(slow):
		case <-ctx.Done():
			return nil
		}
	}

	a := newApp()
	srv := &http.Server{Addr: ":" + port, Handler: a, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Printf("version %s listening on %s", appVersion(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if os.Getenv("EXIT_ON_SIGTERM") == "1" {
		// As many apps do: exit at once, dropping whatever is in flight.
		log.Printf("EXIT_ON_SIGTERM=1: exiting with %d requests in flight", a.inflight.Load())
		return nil
	}
	// Drain: stop accepting, let in-flight requests finish, and only then
	// return (so main exits after the last response is written).
	log.Printf("shutting down: draining %d in-flight requests (up to %v)", a.inflight.Load(), drain)
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Printf("shut down cleanly")
	return nil
}

type app struct {
	mux      *http.ServeMux
	host     string
	inflight atomic.Int64
}

func newApp() *app {
	host, _ := os.Hostname()
	a := &app{mux: http.NewServeMux(), host: host}
	a.mux.HandleFunc("/up", a.up)
	a.mux.HandleFunc("/sleep", a.sleep)
	a.mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, appVersion())
	})
	a.mux.HandleFunc("/", a.root)
	return a
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.inflight.Add(1)
	defer a.inflight.Add(-1)
	w.Header().Set("X-App-Version", appVersion())
	w.Header().Set("X-App-Host", a.host)
	a.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

func (a *app) root(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": appVersion(), "host": a.host, "path": r.URL.Path})
}

func (a *app) sleep(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > maxSleep {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "ms: want 0..300000", "version": appVersion()})
		return
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": appVersion(), "host": a.host, "slept_ms": ms})
}

// health is /up's body, like a Rails HealthController with checks.
type health struct {
	Status  string            `json:"status"`
	Version string            `json:"version"`
	Checks  map[string]string `json:"checks"`
}

func (a *app) up(w http.ResponseWriter, r *http.Request) {
	h := health{Status: "ok", Version: appVersion(), Checks: map[string]string{}}
	if os.Getenv("NEVER_HEALTHY") == "1" {
		h.Checks["never_healthy"] = "NEVER_HEALTHY=1"
	}
	ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
	defer cancel()
	if u := os.Getenv("DATABASE_URL"); u != "" {
		h.Checks["database"] = result(checkPostgres(ctx, u))
	}
	if u := os.Getenv("REDIS_URL"); u != "" {
		h.Checks["redis"] = result(checkRedis(ctx, u))
	}
	status := http.StatusOK
	for _, c := range h.Checks {
		if c != "ok" {
			h.Status, status = "error", http.StatusServiceUnavailable
		}
	}
	writeJSON(w, status, h)
}

func result(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}

func healthcheck(ctx context.Context) error {
	port := os.Getenv("PORT")
	if port == "" {
		port = defaultPort
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/up", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /up answered %d", resp.StatusCode)
	}
	return nil
}

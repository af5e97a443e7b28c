package traefik_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/procnet"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"

	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// traefikBinary is the Traefik v3.6.12 binary the e2e harness builds into
// its cache ($KAMAL_E2E_CACHE, default /var/tmp/kamal-e2e); set
// KAMAL_TRAEFIK_BIN to use another. Without it these tests skip, unless
// KAMAL_REQUIRE_TRAEFIK=1 (as `make test` sets, after building the images),
// where a missing binary is a failure.
func traefikBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("KAMAL_TRAEFIK_BIN")
	if p == "" {
		cache := os.Getenv("KAMAL_E2E_CACHE")
		if cache == "" {
			cache = "/var/tmp/kamal-e2e"
		}
		p = cache + "/traefik-3.6.12"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("KAMAL_REQUIRE_TRAEFIK") == "1" {
			t.Fatalf("no traefik binary (%v); `make images` builds it", err)
		}
		t.Skipf("no traefik binary (%v); the e2e harness builds it", err)
	}
	return p
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startTraefik runs the real binary with our static arguments, moved to
// loopback ports and a temp directory, and waits for /ping.
func startTraefik(t *testing.T) (web string, r *traefik.Dynamic) {
	t.Helper()
	bin := traefikBinary(t)
	dir := t.TempDir()
	web, api := freePort(t), freePort(t)
	s := traefik.Static{Image: "unused", DynamicDir: dir, Args: map[string]string{
		"entryPoints.web.address":       web,
		"entryPoints.websecure.address": freePort(t),
		"entryPoints.traefik.address":   api,
		"providers.file.directory":      dir,
	}}
	args, err := s.CommandArgs()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("traefik output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + api + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("traefik did not answer /ping: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	pid := cmd.Process.Pid
	sockets := func(context.Context) ([]procnet.Socket, error) { return procnet.Read(procnet.Root, pid) }
	return web, &traefik.Dynamic{Dir: dir, API: "http://" + api, Sockets: sockets}
}

// backend is a test server answering its name; /slow holds the request for
// 1.5 s and announces its start on the returned channel.
func backend(t *testing.T, name string) (swap.Server, <-chan struct{}) {
	t.Helper()
	slowStarted := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			slowStarted <- struct{}{}
			time.Sleep(1500 * time.Millisecond)
		}
		fmt.Fprint(w, name)
	}))
	t.Cleanup(srv.Close)
	return swap.Server{Container: name, Address: strings.TrimPrefix(srv.URL, "http://")}, slowStarted
}

func through(web, host, path string) (string, int, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+web+path, nil)
	req.Host = host
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode, err
}

// TestRealTraefikCutover routes blue, then green, through the real Traefik
// binary: each Confirm returns only once Traefik serves the new server, a
// request in flight on blue completes, and the cutover latency is logged.
func TestRealTraefikCutover(t *testing.T) {
	web, r := startTraefik(t)
	blue, blueSlow := backend(t, "blue")
	green, _ := backend(t, "green")
	d := deploy(t, "", &contract.Proxy{Hosts: []string{"app.test"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if err := r.Route(ctx, d, []swap.Server{blue}); err != nil {
		t.Fatal(err)
	}
	if err := r.Confirm(ctx, d, []swap.Server{blue}); err != nil {
		t.Fatal(err)
	}
	if body, code, err := through(web, "app.test", "/"); err != nil || code != 200 || body != "blue" {
		t.Fatalf("via traefik: %q %d %v", body, code, err)
	}

	// A slow request is in flight on blue during the cutover.
	var wg sync.WaitGroup
	var slowBody string
	var slowCode int
	var slowErr error
	var slowDone time.Time
	wg.Add(1)
	go func() {
		defer wg.Done()
		slowBody, slowCode, slowErr = through(web, "app.test", "/slow")
		slowDone = time.Now()
	}()
	select { // the slow request must be in flight on blue before cutover
	case <-blueSlow:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request never reached blue")
	}

	start := time.Now()
	if err := r.Route(ctx, d, []swap.Server{green}); err != nil {
		t.Fatal(err)
	}
	if err := r.Confirm(ctx, d, []swap.Server{green}); err != nil {
		t.Fatal(err)
	}
	latency := time.Since(start)
	for i := range 20 {
		if body, code, err := through(web, "app.test", "/"); err != nil || code != 200 || body != "green" {
			t.Fatalf("request %d after confirm: %q %d %v", i, body, code, err)
		}
	}
	t.Logf("cutover (file written -> traefik API shows green): %s", latency)
	if latency > 2*time.Second {
		t.Errorf("cutover took %s; the 50ms throttle should make it sub-second", latency)
	}
	// The drain counts Traefik's connections to blue: it ends only once the
	// slow request is answered, and soon after (the role's transport closes
	// idle connections after 500 ms; Traefik's default would hold 90 s).
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	if err := r.Drain(dctx, d, []swap.Server{blue}); err != nil {
		t.Fatalf("drain blue: %v", err)
	}
	drained := time.Now()
	wg.Wait()
	if slowErr != nil || slowCode != 200 || slowBody != "blue" {
		t.Errorf("in-flight request on blue: %q %d %v", slowBody, slowCode, slowErr)
	}
	t.Logf("drain ended %s after the in-flight request was answered", drained.Sub(slowDone))
	if !slowDone.Before(drained) || drained.Sub(slowDone) > 2*time.Second {
		t.Errorf("drain ended at %s, the in-flight request was answered at %s", drained.Format(time.StampMilli), slowDone.Format(time.StampMilli))
	}

	if err := r.Unroute(ctx, d); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, code, _ := through(web, "app.test", "/")
		if code == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still routed after unroute: %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRealTraefikAcceptsKamal1Labels loads the label-built configuration
// into the real Traefik and checks its routers are enabled and serve.
func TestRealTraefikAcceptsKamal1Labels(t *testing.T) {
	web, r := startTraefik(t)
	green, _ := backend(t, "green")
	labels := map[string]string{
		"traefik.http.routers.app-web.rule":                              "Host(`app.test`)",
		"traefik.http.routers.app-web.middlewares":                       "app-web-retry@docker,hdr",
		"traefik.http.middlewares.app-web-retry.retry.attempts":          "5",
		"traefik.http.middlewares.app-web-retry.retry.initialinterval":   "500ms",
		"traefik.http.middlewares.hdr.headers.customresponseheaders.X-K": "1",
		"traefik.http.services.app-web.loadbalancer.server.scheme":       "http",
	}
	d := deploy(t, "", &contract.Proxy{TraefikLabels: labels})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.Route(ctx, d, []swap.Server{green}); err != nil {
		t.Fatal(err)
	}
	if err := r.Confirm(ctx, d, []swap.Server{green}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+web+"/", nil)
	req.Host = "app.test"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "green" || resp.Header.Get("X-K") != "1" {
		t.Fatalf("via traefik: %d %q headers %v", resp.StatusCode, body, resp.Header)
	}
	resp2, err := http.Get(r.API + "/api/http/routers/app-web@file")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	rb, _ := io.ReadAll(resp2.Body)
	if !strings.Contains(string(rb), `"status":"enabled"`) {
		t.Errorf("router: %s", rb)
	}
}

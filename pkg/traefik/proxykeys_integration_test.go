package traefik_test

// Kamal 2 proxy keys against the real Traefik binary: each test shows the
// effect Kamal documents (and kamal-proxy implements) for one key.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

// syncBuffer collects Traefik's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTraefikHost is startTraefik with the per-host Kamal 2 settings; it
// also returns Traefik's output (its access log goes there).
func startTraefikHost(t *testing.T, host *contract.HostProxy) (web string, r *traefik.Dynamic, out *syncBuffer) {
	t.Helper()
	bin := traefikBinary(t)
	dir := t.TempDir()
	web, api := freePort(t), freePort(t)
	s := traefik.Static{Image: "unused", DynamicDir: dir, Host: host, Args: map[string]string{
		"entryPoints.web.address":       web,
		"entryPoints.websecure.address": freePort(t),
		"entryPoints.traefik.address":   api,
		"providers.file.directory":      dir,
	}}
	if host != nil && host.MetricsPort > 0 {
		s.Args["entryPoints.metrics.address"] = fmt.Sprintf("127.0.0.1:%d", host.MetricsPort)
	}
	args, err := s.CommandArgs()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	out = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("traefik output:\n%s", out.String())
		}
	})
	waitOK(t, "http://"+api+"/ping")
	return web, &traefik.Dynamic{Dir: dir, API: "http://" + api}, out
}

// waitOK polls url until it answers 200, for at most 30 s.
func waitOK(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered 200: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echo is a backend that answers what it received as JSON; /slow waits
// 1.5 s first, /big answers 4 KiB.
func echo(t *testing.T) swap.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			time.Sleep(1500 * time.Millisecond)
		case "/big":
			w.Write(bytes.Repeat([]byte("x"), 4096)) //nolint:errcheck // test server
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Request-Id", "req-42")
		json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // test server
			"path": r.URL.Path, "xff": r.Header.Get("X-Forwarded-For"), "xfp": r.Header.Get("X-Forwarded-Proto"), "len": len(body)})
	}))
	t.Cleanup(srv.Close)
	return swap.Server{Container: "echo", Address: strings.TrimPrefix(srv.URL, "http://")}
}

// routed routes px to srv through r and waits until Traefik serves it.
func routed(t *testing.T, r *traefik.Dynamic, px *contract.Proxy, srv swap.Server) {
	t.Helper()
	d := deploy(t, "", px)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Route(ctx, d, []swap.Server{srv}); err != nil {
		t.Fatal(err)
	}
	if err := r.Confirm(ctx, d, []swap.Server{srv}); err != nil {
		t.Fatal(err)
	}
}

type echoed struct {
	Path string `json:"path"`
	XFF  string `json:"xff"`
	XFP  string `json:"xfp"`
	Len  int    `json:"len"`
}

// call sends one request for app.test through web and decodes the echo.
func call(t *testing.T, web, method, path string, body []byte, hdr map[string]string) (int, echoed) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+web+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "app.test"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e echoed
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && path != "/big" {
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s %s: %v in %q", method, path, err, b)
		}
	}
	return resp.StatusCode, e
}

// TestProxyForwardHeaders: with forward_headers true Traefik keeps the
// client's X-Forwarded-For (appending the peer) and -Proto; with false it
// replaces them, as kamal-proxy does.
func TestProxyForwardHeaders(t *testing.T) {
	spoof := map[string]string{"X-Forwarded-For": "10.10.10.10", "X-Forwarded-Proto": "https"}
	for _, tc := range []struct {
		trust    bool
		xff, xfp string
	}{{true, "10.10.10.10, 127.0.0.1", "https"}, {false, "127.0.0.1", "http"}} {
		t.Run(fmt.Sprintf("forward_headers=%v", tc.trust), func(t *testing.T) {
			web, r, _ := startTraefikHost(t, &contract.HostProxy{TrustForwardedHeaders: tc.trust})
			routed(t, r, &contract.Proxy{Hosts: []string{"app.test"}}, echo(t))
			code, e := call(t, web, http.MethodGet, "/", nil, spoof)
			if code != 200 || e.XFF != tc.xff || e.XFP != tc.xfp {
				t.Errorf("app saw X-Forwarded-For %q, -Proto %q (status %d); want %q, %q", e.XFF, e.XFP, code, tc.xff, tc.xfp)
			}
		})
	}
}

// TestProxyResponseTimeout: a request slower than response_timeout gets 504.
func TestProxyResponseTimeout(t *testing.T) {
	web, r, _ := startTraefikHost(t, nil)
	routed(t, r, &contract.Proxy{Hosts: []string{"app.test"}, ResponseTimeout: contract.Duration(300 * time.Millisecond)}, echo(t))
	if code, _ := call(t, web, http.MethodGet, "/", nil, nil); code != 200 {
		t.Fatalf("fast request: %d", code)
	}
	if code, _ := call(t, web, http.MethodGet, "/slow", nil, nil); code != http.StatusGatewayTimeout {
		t.Errorf("request slower than response_timeout: %d, want 504", code)
	}
}

// TestProxyPathPrefixes: every prefix routes; the prefix is stripped
// unless strip_path_prefix is false; other paths are not routed.
func TestProxyPathPrefixes(t *testing.T) {
	for _, strip := range []bool{true, false} {
		t.Run(fmt.Sprintf("strip_path_prefix=%v", strip), func(t *testing.T) {
			web, r, _ := startTraefikHost(t, nil)
			routed(t, r, &contract.Proxy{Hosts: []string{"app.test"}, PathPrefixes: []string{"/api", "/oauth_callback"}, StripPathPrefix: strip}, echo(t))
			for in, stripped := range map[string]string{"/api/users/123": "/users/123", "/oauth_callback/x": "/x"} {
				want := in
				if strip {
					want = stripped
				}
				if code, e := call(t, web, http.MethodGet, in, nil, nil); code != 200 || e.Path != want {
					t.Errorf("GET %s: %d, app saw %q, want %q", in, code, e.Path, want)
				}
			}
			if code, _ := call(t, web, http.MethodGet, "/other", nil, nil); code != http.StatusNotFound {
				t.Errorf("GET /other: %d, want 404 (not under a prefix)", code)
			}
		})
	}
}

// TestProxyBuffering: a request body over max_request_body gets 413, a
// response over max_response_body 500 (kamal-proxy's answers); bodies
// within the limits pass whole.
func TestProxyBuffering(t *testing.T) {
	web, r, _ := startTraefikHost(t, nil)
	routed(t, r, &contract.Proxy{Hosts: []string{"app.test"}, Buffering: &contract.Buffering{MaxRequestBody: 1024, MaxResponseBody: 1024, Memory: 256}}, echo(t))
	if code, e := call(t, web, http.MethodPost, "/", bytes.Repeat([]byte("a"), 1000), nil); code != 200 || e.Len != 1000 {
		t.Errorf("body within the limit: %d, app got %d bytes", code, e.Len)
	}
	if code, _ := call(t, web, http.MethodPost, "/", bytes.Repeat([]byte("a"), 4096), nil); code != http.StatusRequestEntityTooLarge {
		t.Errorf("body over max_request_body: %d, want 413", code)
	}
	if code, _ := call(t, web, http.MethodGet, "/big", nil, nil); code != http.StatusInternalServerError {
		t.Errorf("response over max_response_body: %d, want 500", code)
	}
}

// TestProxyLoggingHeaders: the access log shows the listed request and
// response headers, credentials redacted, and no other header.
func TestProxyLoggingHeaders(t *testing.T) {
	web, r, out := startTraefikHost(t, &contract.HostProxy{AccessLog: true,
		LogHeaders: map[string]string{"User-Agent": "keep", "Authorization": "redact", "X-Request-Id": "keep"}})
	routed(t, r, &contract.Proxy{Hosts: []string{"app.test"}}, echo(t))
	call(t, web, http.MethodGet, "/logged", nil, map[string]string{"User-Agent": "kamal-test/1", "Authorization": "Bearer s3cr3t", "X-Unlisted": "nope"})
	var line map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for line == nil {
		for _, l := range strings.Split(out.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["RequestPath"] == "/logged" {
				line = m
			}
		}
		if line == nil && time.Now().After(deadline) {
			t.Fatal("no access log line for /logged")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for k, want := range map[string]any{"request_User-Agent": "kamal-test/1", "request_Authorization": "REDACTED", "downstream_X-Request-Id": "req-42"} {
		if line[k] != want {
			t.Errorf("access log %s = %v, want %v", k, line[k], want)
		}
	}
	if _, ok := line["request_X-Unlisted"]; ok || strings.Contains(out.String(), "s3cr3t") {
		t.Errorf("access log shows an unlisted header or the credential: %v", line)
	}
}

// TestProxyRunMetricsAndDebug: proxy.run.metrics_port serves Prometheus
// metrics and debug turns on Traefik's debug log.
func TestProxyRunMetricsAndDebug(t *testing.T) {
	port := freePort(t)
	var p int
	fmt.Sscanf(port[strings.LastIndex(port, ":")+1:], "%d", &p) //nolint:errcheck // freePort's own format
	_, _, out := startTraefikHost(t, &contract.HostProxy{MetricsPort: p, Debug: true})
	resp, err := http.Get("http://127.0.0.1:" + fmt.Sprint(p) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "traefik_") {
		t.Errorf("metrics port: %d, %d bytes without traefik_ metrics", resp.StatusCode, len(b))
	}
	if !strings.Contains(out.String(), "DBG") && !strings.Contains(out.String(), `"level":"debug"`) {
		t.Errorf("no debug line in Traefik's log with debug: true")
	}
}

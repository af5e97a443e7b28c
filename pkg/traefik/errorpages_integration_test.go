package traefik_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/errorpages"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"
)

// TestProxyErrorPages: with error_pages_path the app's own 502, 503 and
// 504 pages answer when the app cannot (a dead server, no server, a slow
// answer), served by the sidecar's page server to Traefik's errors
// middleware; the 503 page shows the maintenance message; the app's own
// answers pass untouched.
func TestProxyErrorPages(t *testing.T) {
	store := errorpages.Store{Dir: t.TempDir()}
	message := ""
	pagesSrv := httptest.NewServer(store.Handler(func(string) string { return message }))
	defer pagesSrv.Close()
	old := routes.ErrorPagesServer
	routes.ErrorPagesServer = pagesSrv.URL
	defer func() { routes.ErrorPagesServer = old }()

	web, r, _ := startTraefikHost(t, nil)
	pages := map[string]string{"502": "<h1>app 502</h1>", "503": "<h1>app 503</h1><p>{{.Message}}</p>", "504": "<h1>app 504</h1>"}
	px := &contract.Proxy{Hosts: []string{"app.test"}, ResponseTimeout: contract.Duration(300 * time.Millisecond), ErrorPages: pages}
	d := deploy(t, "", px)
	if err := store.Put(contract.RouteName(d), pages); err != nil {
		t.Fatal(err)
	}
	route := func(servers ...swap.Server) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Route(ctx, d, servers); err != nil {
			t.Fatal(err)
		}
		if len(servers) > 0 {
			if err := r.Confirm(ctx, d, servers); err != nil {
				t.Fatal(err)
			}
		}
	}
	route(echo(t))
	if code, body := get(t, web, "/"); code != 200 || !strings.Contains(body, `"path":"/"`) {
		t.Errorf("app answer: %d %q", code, body)
	}
	if code, body := get(t, web, "/slow"); code != http.StatusGatewayTimeout || body != pages["504"] {
		t.Errorf("slow answer: %d %q, want 504 with the app's 504 page", code, body)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	route(swap.Server{Container: "dead", Address: dead})
	waitStatus(t, web, http.StatusBadGateway)
	if code, body := get(t, web, "/"); code != http.StatusBadGateway || body != pages["502"] {
		t.Errorf("dead app: %d %q, want 502 with the app's 502 page", code, body)
	}

	message = "Back at noon."
	route()
	waitStatus(t, web, http.StatusServiceUnavailable)
	if code, body := get(t, web, "/"); code != http.StatusServiceUnavailable || body != "<h1>app 503</h1><p>Back at noon.</p>" {
		t.Errorf("no server: %d %q, want 503 with the app's 503 page and the maintenance message", code, body)
	}
}

// get sends GET path for app.test and returns the status and body.
func get(t *testing.T, web, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+web+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "app.test"
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitStatus polls until GET / answers code (a new route takes effect
// within Traefik's file watch), for at most 10 s.
func waitStatus(t *testing.T, web string, code int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, _ := get(t, web, "/"); c == code {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET / never answered %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

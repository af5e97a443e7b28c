package traefik_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"

	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// fakeAPI serves /api/http/services/<name>@file like Traefik does, from a
// settable server list; nil means 404.
type fakeAPI struct {
	mu      sync.Mutex
	servers map[string][]string
	hits    int
}

func (f *fakeAPI) set(service string, urls ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.servers == nil {
		f.servers = map[string][]string{}
	}
	f.servers[service] = urls
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits++
	name, ok := strings.CutPrefix(r.URL.Path, "/api/http/services/")
	urls, found := f.servers[name]
	if !ok || !found {
		http.Error(w, `{"message":"service not found"}`, http.StatusNotFound)
		return
	}
	type server struct {
		URL string `json:"url"`
	}
	var ss []server
	for _, u := range urls {
		ss = append(ss, server{u})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"loadBalancer": map[string]any{"servers": ss, "passHostHeader": true},
		"status":       "enabled", "name": name, "provider": "file", "type": "loadbalancer",
	})
}

func newDynamic(t *testing.T) (*traefik.Dynamic, *fakeAPI) {
	t.Helper()
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &traefik.Dynamic{Dir: t.TempDir(), API: srv.URL, PollInterval: 5 * time.Millisecond}, api
}

func TestRouteWritesAtomically(t *testing.T) {
	r, _ := newDynamic(t)
	d := deploy(t, "", &contract.Proxy{Hosts: []string{"app.example.com"}, AppPort: 3000})
	if err := r.Route(context.Background(), d, green); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "app-web.yml" {
		t.Fatalf("dir holds %v; want only app-web.yml (no temp files)", entries)
	}
	// The temporary file is written beside the directory Traefik lists,
	// never in it (a watcher starting then would fail on it).
	stage := traefik.StagingDir(r.Dir)
	if filepath.Dir(stage) != filepath.Dir(filepath.Clean(r.Dir)) {
		t.Errorf("staging dir %s is not beside %s", stage, r.Dir)
	}
	if left, err := os.ReadDir(stage); err != nil || len(left) != 0 {
		t.Errorf("staging dir holds %v (%v), want it empty after the write", left, err)
	}
	data, _ := os.ReadFile(filepath.Join(r.Dir, "app-web.yml"))
	if !strings.Contains(string(data), `"url": "http://172.18.0.5:3000"`) {
		t.Errorf("file:\n%s", data)
	}
	info, _ := os.Stat(filepath.Join(r.Dir, "app-web.yml"))
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", info.Mode())
	}
	blue := []swap.Server{{Container: "x", Address: "172.18.0.9:3000"}}
	if err := r.Route(context.Background(), d, blue); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(filepath.Join(r.Dir, "app-web.yml"))
	if strings.Contains(string(data), "172.18.0.5") || !strings.Contains(string(data), "172.18.0.9") {
		t.Errorf("second route did not replace the first:\n%s", data)
	}
	if err := r.Unroute(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "app-web.yml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after unroute: %v", err)
	}
	if err := r.Unroute(context.Background(), d); err != nil {
		t.Errorf("unroute twice: %v", err)
	}
}

func TestRouteFailsOnMissingDir(t *testing.T) {
	r := &traefik.Dynamic{Dir: filepath.Join(t.TempDir(), "missing")}
	d := deploy(t, "", &contract.Proxy{})
	if err := r.Route(context.Background(), d, green); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestConfirmWaitsForServerSet(t *testing.T) {
	r, api := newDynamic(t)
	d := deploy(t, "", &contract.Proxy{AppPort: 3000})
	api.set("app-web@file", "http://172.18.0.9:3000")
	go func() {
		// Traefik picks the file up a little later.
		time.Sleep(50 * time.Millisecond)
		api.set("app-web@file", "http://172.18.0.5:3000")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := r.Confirm(ctx, d, green); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("confirmed after %s, before the server set changed", d)
	}
}

func TestConfirmTimeoutSaysWhatTraefikShowed(t *testing.T) {
	r, api := newDynamic(t)
	d := deploy(t, "", &contract.Proxy{AppPort: 3000})
	api.set("app-web@file", "http://172.18.0.9:3000", "http://172.18.0.5:3000")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := r.Confirm(ctx, d, green)
	if err == nil || !strings.Contains(err.Error(), "http://172.18.0.9:3000") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if api.hits < 2 {
		t.Errorf("only %d polls in 1s; confirm must poll", api.hits)
	}
	_, err = r.ServiceServers(context.Background(), "nope@file")
	if !errors.Is(err, traefik.ErrServiceNotFound) {
		t.Errorf("unknown service: %v", err)
	}
}

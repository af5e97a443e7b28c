package traefik_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"
)

// accessoryBackend answers "accessory", and its health path /db-up with
// 200 while healthy is set (503 otherwise); it counts the probes.
func accessoryBackend(t *testing.T, healthy *atomic.Bool, probes *atomic.Int64) (host string, port int) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/db-up" {
			probes.Add(1)
			if !healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		fmt.Fprint(w, "accessory")
	}))
	t.Cleanup(srv.Close)
	h, p, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	port, err = strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, port
}

// waitThrough polls web with Host host until the answer has status want
// (and, for 200, the accessory's body), or fails at the deadline.
func waitThrough(t *testing.T, web, host string, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		body, code, err := through(web, host, "/")
		if err == nil && code == want && (want != http.StatusOK || body == "accessory") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: want %d, last %d %q %v", what, want, code, body, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAccessoryProxyRoute routes an accessory's host name through the real
// Traefik binary as the sidecar writes it (routes.Accessory, then
// traefik.WriteStaticRoutes): the host name reaches the accessory while it
// passes its health check (proxy.healthcheck.path, probed at
// proxy.healthcheck.interval), an unhealthy accessory gets no requests
// (503), another host name is not routed (404), and a route left out of
// the next set is gone.
func TestAccessoryProxyRoute(t *testing.T) {
	web, dyn := startTraefik(t)
	var healthy atomic.Bool
	var probes atomic.Int64
	h, port := accessoryBackend(t, &healthy, &probes)
	r, err := routes.Accessory(routes.AccessoryProxy{
		Name: "db", Object: "accessory.app.db", Backend: h, Hosts: []string{"db.example.test"}, Port: port,
		HealthPath: "/db-up", HealthInterval: 100 * time.Millisecond, HealthTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := traefik.WriteStaticRoutes(dyn.Dir, "app", []contract.StaticRoute{r}); err != nil {
		t.Fatal(err)
	}
	waitThrough(t, web, "db.example.test", http.StatusServiceUnavailable, "unhealthy accessory")
	if probes.Load() == 0 {
		t.Fatal("traefik marked the accessory down without probing /db-up")
	}
	healthy.Store(true)
	waitThrough(t, web, "db.example.test", http.StatusOK, "healthy accessory")
	if _, code, err := through(web, "other.example.test", "/"); err != nil || code != http.StatusNotFound {
		t.Fatalf("another host name: %d %v, want 404", code, err)
	}
	healthy.Store(false)
	waitThrough(t, web, "db.example.test", http.StatusServiceUnavailable, "accessory turned unhealthy")
	healthy.Store(true)
	waitThrough(t, web, "db.example.test", http.StatusOK, "accessory healthy again")
	if err := traefik.WriteStaticRoutes(dyn.Dir, "app", nil); err != nil {
		t.Fatal(err)
	}
	waitThrough(t, web, "db.example.test", http.StatusNotFound, "route removed")
}

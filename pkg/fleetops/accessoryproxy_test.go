package fleetops

import (
	"encoding/json"
	"testing"
)

// TestAccessoryProxyOnTheWire: accessories.*.proxy's host, app_port and
// healthcheck (path, interval, timeout) reach the Traefik boot request of
// the accessory's host, and only its host, as a route to its container on
// the kamal network with Traefik's health check (pkg/traefik
// TestAccessoryProxyRoute shows the real Traefik honouring such a route).
func TestAccessoryProxyOnTheWire(t *testing.T) {
	s := &Session{Cfg: loadKeys(t, "servers: [1.1.1.1, 2.2.2.2]\nproxy:\n  host: a.example.org\naccessories:\n  search:\n    image: search\n    host: 2.2.2.2\n"+
		"    proxy:\n      host: search.example.org\n      app_port: 9200\n      healthcheck:\n        path: /_health\n        interval: 3\n        timeout: 2\n", nil)}
	req, err := s.hostTraefikRequest("2.2.2.2")
	if err != nil {
		t.Fatal(err)
	}
	if req.RoutesService != "app" || len(req.Routes) != 1 || req.Routes[0].Name != "search" {
		t.Fatalf("routes of %q: %+v, want search's", req.RoutesService, req.Routes)
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	var conf struct {
		HTTP struct {
			Routers  map[string]struct{ Rule, Service string }
			Services map[string]struct {
				LoadBalancer struct {
					Servers     []struct{ URL string }
					HealthCheck struct{ Path, Interval, Timeout string }
				}
			}
		}
	}
	if err := json.Unmarshal(req.Routes[0].Config, &conf); err != nil {
		t.Fatal(err)
	}
	const obj = "accessory.app.search"
	r := conf.HTTP.Routers[obj]
	lb := conf.HTTP.Services[obj].LoadBalancer
	if r.Rule != "Host(`search.example.org`)" || r.Service != obj {
		t.Errorf("router %+v", conf.HTTP.Routers)
	}
	if len(lb.Servers) != 1 || lb.Servers[0].URL != "http://app-search:9200" {
		t.Errorf("servers %+v, want the container app-search on 9200", lb.Servers)
	}
	if hc := lb.HealthCheck; hc.Path != "/_health" || hc.Interval != "3s" || hc.Timeout != "2s" {
		t.Errorf("health check %+v, want /_health every 3s, 2s each", hc)
	}
	other, err := s.hostTraefikRequest("1.1.1.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Routes) != 0 || other.RoutesService != "app" {
		t.Errorf("1.1.1.1 (no accessory) routes %+v of %q, want none of app (its set empties)", other.Routes, other.RoutesService)
	}
}

package fleetops

import (
	"fmt"
	"slices"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"
)

// accessoryRoutes are the static routes of the proxied accessories on
// host: each one's host names to its container on the kamal network, with
// Traefik's health check on it. They travel in the Traefik boot request.
func (s *Session) accessoryRoutes(host string) ([]contract.StaticRoute, error) {
	var out []contract.StaticRoute
	for _, name := range s.accessoryNames() {
		a := s.Cfg.Accessory(name)
		if a == nil || a.Proxy == nil || !slices.Contains(a.Hosts, host) {
			continue
		}
		p := a.Proxy
		r, err := routes.Accessory(routes.AccessoryProxy{
			Name: a.Name, Object: "accessory." + s.Cfg.Service + "." + a.Name, Backend: a.Service, Hosts: p.Hosts, Port: p.AppPort,
			HealthPath: p.Healthcheck.Path, HealthInterval: p.Healthcheck.Interval.D(), HealthTimeout: p.Healthcheck.Timeout.D(),
		})
		if err != nil {
			return nil, fmt.Errorf("route accessory %s on %s: %w", name, host, err)
		}
		out = append(out, r)
	}
	return out, nil
}

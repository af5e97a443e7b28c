package routes

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	ptypes "github.com/traefik/paerser/types"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"
)

// Accessory health check defaults: kamal-proxy's (a probe a second, 5 s
// each).
const (
	AccessoryHealthInterval = time.Second
	AccessoryHealthTimeout  = 5 * time.Second
)

// AccessoryProxy is an accessory's accessories.*.proxy as its route needs
// it.
type AccessoryProxy struct {
	// Name names the route's file (the accessory's name).
	Name string
	// Object names its Traefik router, service and transport, unique in
	// the host's file provider: accessory.<service>.<name> (a role's names
	// have no dot).
	Object string
	// Backend is the host name Traefik reaches the container by (its name
	// on the kamal network).
	Backend string
	// Hosts are the request host names routed to it.
	Hosts []string
	// Port is the container port (proxy.app_port).
	Port int
	// Health is the probe Traefik runs against the container; a server
	// failing it gets no requests. Zero interval and timeout take the
	// defaults above.
	HealthPath     string
	HealthInterval time.Duration
	HealthTimeout  time.Duration
}

// Accessory builds the static route of an accessory: a router on the web
// entrypoint for its host names, and a service of its one container with
// Traefik's active health check on it.
func Accessory(a AccessoryProxy) (contract.StaticRoute, error) {
	if len(a.Hosts) == 0 || a.Port <= 0 || a.Backend == "" || a.Object == "" {
		return contract.StaticRoute{}, fmt.Errorf("build traefik route for accessory %s: needs host names, a port, a backend and an object name", a.Name)
	}
	hc := &dynamic.ServerHealthCheck{}
	hc.SetDefaults()
	hc.Path = a.HealthPath
	hc.Interval = ptypes.Duration(nonZero(a.HealthInterval, AccessoryHealthInterval))
	hc.Timeout = ptypes.Duration(nonZero(a.HealthTimeout, AccessoryHealthTimeout))
	lb := &dynamic.ServersLoadBalancer{}
	lb.SetDefaults()
	lb.Servers = []dynamic.Server{{URL: "http://" + net.JoinHostPort(a.Backend, strconv.Itoa(a.Port))}}
	lb.HealthCheck = hc
	obj := a.Object
	lb.ServersTransport = obj
	http := &dynamic.HTTPConfiguration{
		Routers: map[string]*dynamic.Router{obj: {
			Rule: Rule(&contract.Proxy{Hosts: a.Hosts}), Service: obj, EntryPoints: []string{contract.EntryPointWeb},
		}},
		Services:          map[string]*dynamic.Service{obj: {LoadBalancer: lb}},
		ServersTransports: map[string]*dynamic.ServersTransport{obj: serversTransport(&contract.Proxy{})},
	}
	raw, err := json.Marshal(&dynamic.Configuration{HTTP: http})
	if err != nil {
		return contract.StaticRoute{}, fmt.Errorf("build traefik route for accessory %s: %w", a.Name, err)
	}
	return contract.StaticRoute{Name: a.Name, Config: raw}, nil
}

func nonZero(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

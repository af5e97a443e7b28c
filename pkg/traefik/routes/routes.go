// Package routes builds a role's Traefik routing (routers, middlewares,
// transports and its service) from the wire spec's proxy settings with
// Traefik v3's own dynamic types, and decodes Kamal 1 traefik.* labels with
// Traefik's own label decoder, so they mean exactly what Traefik says.
//
// It runs in the plugin: the result travels in contract.Proxy.Routing and the
// sidecar (pkg/traefik) only adds the servers. Linking Traefik costs about
// 24 MiB of resident memory at start-up (its packages' init), which the
// sidecar, resident on every host, should not pay.
//
// Label routers, middlewares and services are renamed under the role's name
// (so roles and destinations never collide in the one file provider),
// references to them (also "x@docker", as Kamal 1 writes) are rewritten,
// and every router is pointed at the role's service.
package routes

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	ptypes "github.com/traefik/paerser/types"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"
)

// Attach builds d's routing into d.Proxy.Routing, for the sidecar to fill
// with servers. A role without a proxy is left alone.
func Attach(d *contract.Deploy) error {
	if d.Proxy == nil {
		return nil
	}
	rt, err := Template(d)
	if err != nil {
		return err
	}
	d.Proxy.Routing = rt
	return nil
}

// Template returns d's routing as the wire spec carries it.
func Template(d *contract.Deploy) (*contract.Routing, error) {
	conf, scheme, port, err := Config(d)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(conf)
	if err != nil {
		return nil, fmt.Errorf("build traefik config for %s: %w", contract.RouteName(d), err)
	}
	return &contract.Routing{Config: raw, Service: contract.RouteName(d), Scheme: scheme, Port: port}, nil
}

// Config returns the dynamic configuration of d's role with its service's
// load balancer empty of servers, and the scheme and port (empty: the
// container's) its server URLs take.
func Config(d *contract.Deploy) (conf *dynamic.Configuration, scheme, port string, err error) {
	if d.Proxy == nil {
		return nil, "", "", fmt.Errorf("build traefik config for %s: role has no proxy", contract.RouteName(d))
	}
	name := contract.RouteName(d)
	http := &dynamic.HTTPConfiguration{
		Routers:     map[string]*dynamic.Router{},
		Services:    map[string]*dynamic.Service{},
		Middlewares: map[string]*dynamic.Middleware{},
	}
	// Start from Traefik's own defaults, so the file says what Traefik will
	// do (and reads back equal).
	lb := &dynamic.ServersLoadBalancer{}
	lb.SetDefaults()
	scheme = "http"
	if len(d.Proxy.TraefikLabels) > 0 {
		if scheme, port, err = fromLabels(d, http, lb); err != nil {
			return nil, "", "", fmt.Errorf("build traefik config for %s: %w", name, err)
		}
	} else {
		fromProxy(d, http)
	}
	if lb.ServersTransport == "" {
		http.ServersTransports = map[string]*dynamic.ServersTransport{name: serversTransport(d.Proxy)}
		lb.ServersTransport = name
	}
	http.Services[name] = &dynamic.Service{LoadBalancer: lb}
	if len(d.Proxy.TraefikLabels) == 0 {
		errorPages(d, http)
	}
	if len(http.Middlewares) == 0 {
		http.Middlewares = nil
	}
	return &dynamic.Configuration{HTTP: http}, scheme, port, nil
}

// IdleConnTimeout closes Traefik's idle keep-alive connections to a role's
// servers: short, so that after a cutover the old container's idle
// connections close at once and the drain (which counts Traefik's
// connections to it) sees only requests in flight.
const IdleConnTimeout = 500 * time.Millisecond

// maxIdleConnsPerHost is what Traefik's own default transport keeps (its
// static configuration's default); a file-provider transport left at 0
// would keep Go's 2.
const maxIdleConnsPerHost = 200

// serversTransport is the role's own transport: Traefik's defaults with
// the short idle timeout and the proxy's response timeout.
func serversTransport(px *contract.Proxy) *dynamic.ServersTransport {
	ft := &dynamic.ForwardingTimeouts{}
	ft.SetDefaults()
	ft.IdleConnTimeout = ptypes.Duration(IdleConnTimeout)
	if rt := px.ResponseTimeout.D(); rt > 0 {
		ft.ResponseHeaderTimeout = ptypes.Duration(rt)
	}
	return &dynamic.ServersTransport{MaxIdleConnsPerHost: maxIdleConnsPerHost, ForwardingTimeouts: ft}
}

// fromProxy builds routers from Kamal 2 proxy settings.
func fromProxy(d *contract.Deploy, http *dynamic.HTTPConfiguration) {
	px, name := d.Proxy, contract.RouteName(d)
	rule := Rule(px)
	mws := appMiddlewares(name, px, http)
	main := &dynamic.Router{Rule: rule, Service: name, EntryPoints: px.EntryPoints, Middlewares: mws}
	if !px.TLS {
		if len(main.EntryPoints) == 0 {
			main.EntryPoints = []string{contract.EntryPointWeb}
		}
		http.Routers[name] = main
		return
	}
	if len(main.EntryPoints) == 0 {
		main.EntryPoints = []string{contract.EntryPointWebSecure}
	}
	main.TLS = &dynamic.RouterTLSConfig{CertResolver: px.CertResolver}
	http.Routers[name] = main
	plain := &dynamic.Router{Rule: rule, Service: name, EntryPoints: []string{contract.EntryPointWeb}}
	if px.SSLRedirect {
		mw := name + "-redirect"
		http.Middlewares[mw] = &dynamic.Middleware{RedirectScheme: &dynamic.RedirectScheme{Scheme: "https", Permanent: true}}
		plain.Middlewares = []string{mw}
	} else {
		plain.Middlewares = mws
	}
	http.Routers[name+"-http"] = plain
}

// Rule is the Traefik rule of Kamal 2 proxy settings: an explicit rule, or
// Host(`a`) || Host(`b`) with PathPrefix, or PathPrefix(`/`) for all.
func Rule(px *contract.Proxy) string {
	if px.Rule != "" {
		return px.Rule
	}
	var hosts []string
	for _, h := range px.Hosts {
		hosts = append(hosts, "Host(`"+h+"`)")
	}
	host := strings.Join(hosts, " || ")
	prefix := prefixRule(px)
	switch {
	case host != "" && prefix != "":
		if len(hosts) > 1 {
			host = "(" + host + ")"
		}
		return host + " && " + prefix
	case host != "":
		return host
	case prefix != "":
		return prefix
	default:
		return "PathPrefix(`/`)"
	}
}

func ptr[T any](v T) *T { return &v }

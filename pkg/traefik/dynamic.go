package traefik

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"

	ptypes "github.com/traefik/paerser/types"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	"github.com/traefik/traefik/v3/pkg/config/label"
	"gopkg.in/yaml.v3"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// Entrypoint names, as the static configuration defines them.
const (
	EntryPointWeb       = "web"
	EntryPointWebSecure = "websecure"
)

// Name is the Traefik object name (router, service, file) of d's role:
// service-role[-destination].
func Name(d *spec.Deploy) string {
	parts := []string{d.Service, d.Role}
	if d.Destination != "" {
		parts = append(parts, d.Destination)
	}
	return strings.Join(parts, "-")
}

// FileName is the dynamic configuration file of d's role.
func FileName(d *spec.Deploy) string { return Name(d) + ".yml" }

// Build returns the dynamic configuration that routes d's role to exactly
// servers.
func Build(d *spec.Deploy, servers []swap.Server) (*dynamic.Configuration, error) {
	if d.Proxy == nil {
		return nil, fmt.Errorf("build traefik config for %s: role has no proxy", Name(d))
	}
	name := Name(d)
	http := &dynamic.HTTPConfiguration{
		Routers:     map[string]*dynamic.Router{},
		Services:    map[string]*dynamic.Service{},
		Middlewares: map[string]*dynamic.Middleware{},
	}
	// Start from Traefik's own defaults, so the file says what Traefik will
	// do (and reads back equal).
	lb := &dynamic.ServersLoadBalancer{}
	lb.SetDefaults()
	scheme, port := "http", ""
	if len(d.Proxy.TraefikLabels) > 0 {
		var err error
		if scheme, port, err = fromLabels(d, http, lb); err != nil {
			return nil, fmt.Errorf("build traefik config for %s: %w", name, err)
		}
	} else {
		fromProxy(d, http)
	}
	for _, s := range servers {
		addr := s.Address
		if port != "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("build traefik config for %s: server %q: %w", name, addr, err)
			}
			addr = net.JoinHostPort(host, port)
		}
		lb.Servers = append(lb.Servers, dynamic.Server{URL: (&url.URL{Scheme: scheme, Host: addr}).String()})
	}
	if rt := d.Proxy.ResponseTimeout.D(); rt > 0 {
		ft := &dynamic.ForwardingTimeouts{}
		ft.SetDefaults()
		ft.ResponseHeaderTimeout = ptypes.Duration(rt)
		http.ServersTransports = map[string]*dynamic.ServersTransport{name: {ForwardingTimeouts: ft}}
		lb.ServersTransport = name
	}
	http.Services[name] = &dynamic.Service{LoadBalancer: lb}
	if len(http.Middlewares) == 0 {
		http.Middlewares = nil
	}
	return &dynamic.Configuration{HTTP: http}, nil
}

// fromProxy builds routers from Kamal 2 proxy settings.
func fromProxy(d *spec.Deploy, http *dynamic.HTTPConfiguration) {
	px, name := d.Proxy, Name(d)
	rule := Rule(px)
	main := &dynamic.Router{Rule: rule, Service: name, EntryPoints: px.EntryPoints}
	if !px.TLS {
		if len(main.EntryPoints) == 0 {
			main.EntryPoints = []string{EntryPointWeb}
		}
		http.Routers[name] = main
		return
	}
	if len(main.EntryPoints) == 0 {
		main.EntryPoints = []string{EntryPointWebSecure}
	}
	main.TLS = &dynamic.RouterTLSConfig{CertResolver: px.CertResolver}
	http.Routers[name] = main
	plain := &dynamic.Router{Rule: rule, Service: name, EntryPoints: []string{EntryPointWeb}}
	if px.SSLRedirect {
		mw := name + "-redirect"
		http.Middlewares[mw] = &dynamic.Middleware{RedirectScheme: &dynamic.RedirectScheme{Scheme: "https", Permanent: true}}
		plain.Middlewares = []string{mw}
	}
	http.Routers[name+"-http"] = plain
}

// Rule is the Traefik rule of Kamal 2 proxy settings: an explicit rule, or
// Host(`a`) || Host(`b`) with PathPrefix, or PathPrefix(`/`) for all.
func Rule(px *spec.Proxy) string {
	if px.Rule != "" {
		return px.Rule
	}
	var hosts []string
	for _, h := range px.Hosts {
		hosts = append(hosts, "Host(`"+h+"`)")
	}
	host := strings.Join(hosts, " || ")
	switch {
	case host != "" && px.PathPrefix != "":
		if len(hosts) > 1 {
			host = "(" + host + ")"
		}
		return host + " && PathPrefix(`" + px.PathPrefix + "`)"
	case host != "":
		return host
	case px.PathPrefix != "":
		return "PathPrefix(`" + px.PathPrefix + "`)"
	default:
		return "PathPrefix(`/`)"
	}
}

// fromLabels decodes Kamal 1 traefik.* labels into http under the role's
// name. It returns the server scheme and port the labels ask for.
func fromLabels(d *spec.Deploy, http *dynamic.HTTPConfiguration, lb *dynamic.ServersLoadBalancer) (scheme, port string, err error) {
	conf, err := label.DecodeConfiguration(d.Proxy.TraefikLabels)
	if err != nil {
		return "", "", fmt.Errorf("decode traefik labels: %w", err)
	}
	if conf.TCP != nil && (len(conf.TCP.Routers) > 0 || len(conf.TCP.Services) > 0) ||
		conf.UDP != nil && (len(conf.UDP.Routers) > 0 || len(conf.UDP.Services) > 0) {
		return "", "", fmt.Errorf("decode traefik labels: tcp and udp routing is not supported")
	}
	name := Name(d)
	h := conf.HTTP
	if h == nil {
		h = &dynamic.HTTPConfiguration{}
	}
	local := func(n string) string { return name + "-" + n }
	for n, m := range h.Middlewares {
		http.Middlewares[local(n)] = m
	}
	ref := func(m string) string {
		base, provider, hasProvider := strings.Cut(m, "@")
		if _, ours := h.Middlewares[base]; ours && (!hasProvider || provider == "docker" || provider == "file") {
			return local(base)
		}
		return m
	}
	for n, r := range h.Routers {
		r.Service = name
		if r.Rule == "" {
			r.Rule = Rule(&spec.Proxy{Hosts: d.Proxy.Hosts, PathPrefix: d.Proxy.PathPrefix, Rule: d.Proxy.Rule})
		}
		for i, m := range r.Middlewares {
			r.Middlewares[i] = ref(m)
		}
		// Label routers are named after the app already (Kamal 1 uses the
		// service-role name); avoid "app-web-app-web".
		rn := local(n)
		if n == name {
			rn = name
		}
		http.Routers[rn] = r
	}
	// Chained middlewares refer to others by name too.
	for _, m := range http.Middlewares {
		if m.Chain != nil {
			for i, c := range m.Chain.Middlewares {
				m.Chain.Middlewares[i] = ref(c)
			}
		}
	}
	if len(h.Routers) == 0 {
		fromProxy(d, http)
	}
	switch len(h.Services) {
	case 0:
	case 1:
		for _, s := range h.Services {
			if s.LoadBalancer == nil {
				return "", "", fmt.Errorf("decode traefik labels: only loadbalancer services are supported")
			}
			src := s.LoadBalancer
			for _, sv := range src.Servers {
				if sv.URL != "" {
					return "", "", fmt.Errorf("decode traefik labels: server urls are set by the sidecar, not labels")
				}
				scheme, port = sv.Scheme, sv.Port
			}
			*lb = *src
			lb.Servers = nil
			if lb.PassHostHeader == nil {
				lb.PassHostHeader = ptr(true)
			}
		}
	default:
		return "", "", fmt.Errorf("decode traefik labels: %d services defined (%s); one role routes to one service",
			len(h.Services), strings.Join(slices.Sorted(maps.Keys(h.Services)), ", "))
	}
	if scheme == "" {
		scheme = "http"
	}
	return scheme, port, nil
}

// Marshal renders a dynamic configuration as the YAML the file provider
// reads, with a header naming its owner.
func Marshal(d *spec.Deploy, conf *dynamic.Configuration) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by kamal-sidecar for %s version %s. Do not edit: the next deploy replaces it.\n", Name(d), d.Version)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(conf); err != nil {
		return nil, fmt.Errorf("marshal traefik config for %s: %w", Name(d), err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal traefik config for %s: %w", Name(d), err)
	}
	return b.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

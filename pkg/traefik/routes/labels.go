package routes

// Kamal 1 traefik.* labels: decoded by Traefik's own label decoder, then
// renamed under the role's name and pointed at the role's one service.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	"github.com/traefik/traefik/v3/pkg/config/label"
)

// Why a role's traefik.* labels are refused. Every such error also wraps
// errLabels.
var (
	errLabels          = errors.New("decode traefik labels")
	errMalformedKey    = errors.New("malformed label key")
	errTCPUDP          = errors.New("tcp and udp routing is not supported")
	errNotLoadBalancer = errors.New("only loadbalancer services are supported")
	errServerURL       = errors.New("server urls are set by the sidecar, not labels")
	errServices        = errors.New("one role routes to one service")
	errScheme          = errors.New("must be http, https or h2c")
	errPort            = errors.New("is not a port (1-65535)")
)

// decodeLabels is Traefik's label decoder, which panics on some malformed
// keys (e.g. "traefik.http]", found by FuzzBuildLabels); user config must
// get an error instead.
func decodeLabels(labels map[string]string) (conf *dynamic.Configuration, err error) {
	defer func() {
		if r := recover(); r != nil {
			conf, err = nil, fmt.Errorf("%w (traefik's decoder failed: %v)", errMalformedKey, r)
		}
	}()
	return label.DecodeConfiguration(labels)
}

// fromLabels decodes Kamal 1 traefik.* labels into http under the role's
// name. It returns the server scheme and port the labels ask for.
func fromLabels(d *contract.Deploy, http *dynamic.HTTPConfiguration, lb *dynamic.ServersLoadBalancer) (scheme, port string, err error) {
	conf, err := decodeLabels(d.Proxy.TraefikLabels)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", errLabels, err)
	}
	if conf.TCP != nil && (len(conf.TCP.Routers) > 0 || len(conf.TCP.Services) > 0) ||
		conf.UDP != nil && (len(conf.UDP.Routers) > 0 || len(conf.UDP.Services) > 0) {
		return "", "", fmt.Errorf("%w: %w", errLabels, errTCPUDP)
	}
	h := conf.HTTP
	if h == nil {
		h = &dynamic.HTTPConfiguration{}
	}
	labelRouters(d, h, http)
	if len(h.Routers) == 0 {
		fromProxy(d, http)
	}
	scheme, port, err = labelService(h.Services, lb)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", errLabels, err)
	}
	return scheme, port, nil
}

// labelRouters copies the labels' routers and middlewares into http, renamed
// under the role's name, with every reference to them rewritten and every
// router pointed at the role's service.
func labelRouters(d *contract.Deploy, h, http *dynamic.HTTPConfiguration) {
	name := contract.RouteName(d)
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
			r.Rule = Rule(&contract.Proxy{Hosts: d.Proxy.Hosts, PathPrefix: d.Proxy.PathPrefix, Rule: d.Proxy.Rule})
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
}

// labelService takes the labels' one load balancer service (if any) into lb,
// without servers, and returns the scheme and port its servers ask for.
func labelService(services map[string]*dynamic.Service, lb *dynamic.ServersLoadBalancer) (scheme, port string, err error) {
	switch len(services) {
	case 0:
	case 1:
		for _, s := range services {
			if s.LoadBalancer == nil {
				return "", "", errNotLoadBalancer
			}
			src := s.LoadBalancer
			for _, sv := range src.Servers {
				if sv.URL != "" {
					return "", "", errServerURL
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
		return "", "", fmt.Errorf("%d services defined (%s); %w",
			len(services), strings.Join(slices.Sorted(maps.Keys(services)), ", "), errServices)
	}
	if scheme == "" {
		scheme = "http"
	}
	switch scheme {
	case "http", "https", "h2c":
	default:
		return "", "", fmt.Errorf("loadbalancer.server.scheme %q %w", scheme, errScheme)
	}
	if port != "" {
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return "", "", fmt.Errorf("loadbalancer.server.port %q %w", port, errPort)
		}
	}
	return scheme, port, nil
}

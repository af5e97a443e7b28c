package traefik

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"strings"

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

// ServerURLs are the load-balancer server URLs of servers for d's role, in
// servers order, with the scheme and port its routing asks for.
func ServerURLs(d *spec.Deploy, servers []swap.Server) ([]string, error) {
	rt, err := routing(d)
	if err != nil {
		return nil, err
	}
	scheme := rt.Scheme
	if scheme == "" {
		scheme = "http"
	}
	urls := make([]string, 0, len(servers))
	for _, s := range servers {
		addr := s.Address
		if rt.Port != "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("traefik config for %s: server %q: %w", Name(d), addr, err)
			}
			addr = net.JoinHostPort(host, rt.Port)
		}
		urls = append(urls, (&url.URL{Scheme: scheme, Host: addr}).String())
	}
	return urls, nil
}

// Render returns the file-provider configuration (YAML) that routes d's role
// to exactly servers: the plugin's routing with the servers filled in.
func Render(d *spec.Deploy, servers []swap.Server) ([]byte, error) {
	rt, err := routing(d)
	if err != nil {
		return nil, err
	}
	urls, err := ServerURLs(d, servers)
	if err != nil {
		return nil, err
	}
	conf, lb, err := rt.LoadBalancer()
	if err != nil {
		return nil, fmt.Errorf("traefik config for %s: %w", Name(d), err)
	}
	delete(lb, "servers")
	if len(urls) > 0 {
		list := make([]any, len(urls))
		for i, u := range urls {
			list[i] = map[string]any{"url": u}
		}
		lb["servers"] = list
	}
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

func routing(d *spec.Deploy) (*spec.Routing, error) {
	if d.Proxy == nil {
		return nil, fmt.Errorf("traefik config for %s: role has no proxy", Name(d))
	}
	if d.Proxy.Routing == nil {
		return nil, fmt.Errorf("traefik config for %s: the spec carries no routing (deployed by an older docker kamal? redeploy it)", Name(d))
	}
	return d.Proxy.Routing, nil
}

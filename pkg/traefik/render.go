package traefik

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// FileName is the dynamic configuration file of d's role.
func FileName(d *contract.Deploy) string { return contract.RouteName(d) + ".yml" }

// ServerURLs are the load-balancer server URLs of servers for d's role, in
// servers order, with the scheme and port its routing asks for.
func ServerURLs(d *contract.Deploy, servers []swap.Server) ([]string, error) {
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
				return nil, fmt.Errorf("traefik config for %s: server %q: %w", contract.RouteName(d), addr, err)
			}
			addr = net.JoinHostPort(host, rt.Port)
		}
		urls = append(urls, (&url.URL{Scheme: scheme, Host: addr}).String())
	}
	return urls, nil
}

// Render returns the file-provider configuration (JSON, which is YAML) that routes d's role
// to exactly servers: the plugin's routing with the servers filled in.
func Render(d *contract.Deploy, servers []swap.Server) ([]byte, error) {
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
		return nil, fmt.Errorf("traefik config for %s: %w", contract.RouteName(d), err)
	}
	delete(lb, "servers")
	if len(urls) > 0 {
		list := make([]any, len(urls))
		for i, u := range urls {
			list[i] = map[string]any{"url": u}
		}
		lb["servers"] = list
	}
	// JSON is YAML, so Traefik's file provider reads it from a .yml file;
	// writing JSON keeps a YAML library out of the sidecar.
	body, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal traefik config for %s: %w", contract.RouteName(d), err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by kamal-sidecar for %s version %s. Do not edit: the next deploy replaces it.\n", contract.RouteName(d), d.Version)
	b.Write(yamlSafe(body))
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func routing(d *contract.Deploy) (*contract.Routing, error) {
	if d.Proxy == nil {
		return nil, fmt.Errorf("traefik config for %s: role has no proxy", contract.RouteName(d))
	}
	if d.Proxy.Routing == nil {
		return nil, fmt.Errorf("traefik config for %s: the spec carries no routing (deployed by an older docker kamal? redeploy it)", contract.RouteName(d))
	}
	return d.Proxy.Routing, nil
}

// yamlSafe escapes the characters JSON leaves raw but YAML refuses (DEL and
// the C1 controls, NEL among them, and U+FFFE/U+FFFF): a user's
// label value holding one would make Traefik drop the whole file. They only
// occur inside JSON strings, where \uXXXX means the same to both.
func yamlSafe(body []byte) []byte {
	var b bytes.Buffer
	for _, r := range string(body) {
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0xfffe || r == 0xffff {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.Bytes()
}

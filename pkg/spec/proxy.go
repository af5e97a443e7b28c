package spec

// Proxy settings: whether a role runs behind the proxy, the root proxy
// merged with the role's, and what Kamal rejects across roles.

import (
	"reflect"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// ProxyConfig is the routing of a role (Kamal 2 proxy, or Kamal 1 traefik: true).
type ProxyConfig struct {
	Hosts   []string `yaml:"hosts,omitempty"`
	AppPort int      `yaml:"app_port,omitempty"`
	SSL     bool     `yaml:"ssl,omitempty"`
	// SSLCertificatePEM and SSLPrivateKeyPEM name secrets holding a custom
	// certificate (proxy.ssl as a mapping).
	SSLCertificatePEM string            `yaml:"ssl_certificate_pem,omitempty"`
	SSLPrivateKeyPEM  string            `yaml:"ssl_private_key_pem,omitempty"`
	SSLRedirect       *bool             `yaml:"ssl_redirect,omitempty"`
	ForwardHeaders    *bool             `yaml:"forward_headers,omitempty"`
	ResponseTimeout   contract.Duration `yaml:"response_timeout,omitempty"`
	PathPrefixes      []string          `yaml:"path_prefixes,omitempty"`
	StripPathPrefix   *bool             `yaml:"strip_path_prefix,omitempty"`
	Healthcheck       struct {
		Path     string            `yaml:"path,omitempty"`
		Interval contract.Duration `yaml:"interval,omitempty"`
		Timeout  contract.Duration `yaml:"timeout,omitempty"`
	} `yaml:"healthcheck,omitempty"`
	Buffering *ProxyBuffering `yaml:"buffering,omitempty"`
	Logging   *ProxyLogging   `yaml:"logging,omitempty"`
	Run       *ProxyRun       `yaml:"run,omitempty"`
	// TraefikLabels are Kamal 1 role labels starting with "traefik.".
	TraefikLabels map[string]string `yaml:"traefik_labels,omitempty"`
}

// ProxyBuffering is proxy.buffering.
type ProxyBuffering struct {
	Requests        *bool `yaml:"requests,omitempty" kamal:"requests"`
	Responses       *bool `yaml:"responses,omitempty" kamal:"responses"`
	MaxRequestBody  int64 `yaml:"max_request_body,omitempty" kamal:"max_request_body"`
	MaxResponseBody int64 `yaml:"max_response_body,omitempty" kamal:"max_response_body"`
	Memory          int64 `yaml:"memory,omitempty" kamal:"memory"`
}

// ProxyLogging is proxy.logging.
type ProxyLogging struct {
	RequestHeaders  []string `yaml:"request_headers,omitempty" kamal:"request_headers"`
	ResponseHeaders []string `yaml:"response_headers,omitempty" kamal:"response_headers"`
}

// ProxyRun is proxy.run: how the proxy container on a host is booted.
type ProxyRun struct {
	HTTPPort    int                 `yaml:"http_port,omitempty" kamal:"http_port"`
	HTTPSPort   int                 `yaml:"https_port,omitempty" kamal:"https_port"`
	MetricsPort int                 `yaml:"metrics_port,omitempty" kamal:"metrics_port"`
	Debug       *bool               `yaml:"debug,omitempty" kamal:"debug"`
	LogMaxSize  string              `yaml:"log_max_size,omitempty" kamal:"log_max_size"`
	Publish     *bool               `yaml:"publish,omitempty" kamal:"publish"`
	BindIPs     []string            `yaml:"bind_ips,omitempty" kamal:"bind_ips"`
	Registry    string              `yaml:"registry,omitempty" kamal:"registry"`
	Repository  string              `yaml:"repository,omitempty" kamal:"repository"`
	Version     string              `yaml:"version,omitempty" kamal:"version"`
	Options     map[string][]string `yaml:"options,omitempty" kamal:"options"`
}

// roleProxy decides whether the role runs behind the proxy (primary role:
// unless proxy/traefik is false; others: only when true or a mapping) and
// merges the role's proxy settings over the root ones.
func (b *builder) roleProxy(r *Role) error {
	n := b.roleNodes[r.Name]
	var spec *yaml.Node
	key := "proxy"
	if n != nil && n.Kind == yaml.MappingNode {
		spec = mapGet(n, "proxy")
		if spec == nil {
			if t := mapGet(n, "traefik"); t != nil {
				spec, key = t, "traefik"
			}
		}
	}
	path := "servers." + r.Name + "." + key
	running := r.Primary
	var roleMap *yaml.Node
	if !isNull(spec) {
		switch spec.Kind {
		case yaml.ScalarNode:
			v, err := b.d.boolean(spec, path)
			if err != nil {
				return err
			}
			running = v
		case yaml.MappingNode:
			if key == "traefik" {
				return b.t.errAt(spec, path, "must be true or false")
			}
			running, roleMap = true, spec
		default:
			return b.t.errAt(spec, path, "must be true, false or a mapping, got %s", kindName(spec))
		}
	}
	// Labels starting with traefik. route the role the Kamal 1 way.
	tl := map[string]string{}
	for k, v := range r.Labels {
		if strings.HasPrefix(k, "traefik.") {
			tl[k] = v
		}
	}
	if !running {
		return nil
	}
	var p *ProxyConfig
	var err error
	if b.c.Generation == Kamal1 {
		p = &ProxyConfig{AppPort: DefaultKamal1HealthPort}
		if r.Healthcheck != nil {
			p.AppPort = r.Healthcheck.Port
		}
		p.Healthcheck.Path = contract.DefaultHealthPath
		if r.Healthcheck != nil {
			p.Healthcheck.Path = r.Healthcheck.Path
			p.Healthcheck.Interval = r.Healthcheck.Interval
		}
	} else {
		p, err = b.proxy(b.t.deepMerge(orEmpty(b.raw.Proxy), orEmpty(roleMap)), path, len(r.Hosts))
		if err != nil {
			return err
		}
	}
	if len(tl) > 0 {
		p.TraefikLabels = tl
	}
	r.Proxy = p
	return nil
}

// proxy decodes a (merged) proxy mapping; hostCount is how many hosts run
// it (automatic SSL needs a single one).
func (b *builder) proxy(n *yaml.Node, path string, hostCount int) (*ProxyConfig, error) {
	var raw rawProxy
	if err := b.d.decodeStruct(n, path, reflectValue(&raw)); err != nil {
		return nil, err
	}
	p := &ProxyConfig{AppPort: contract.DefaultAppPort, SSLRedirect: raw.SSLRedirect, ForwardHeaders: raw.ForwardHeaders,
		ResponseTimeout: raw.ResponseTimeout, StripPathPrefix: raw.StripPathPrefix, Buffering: raw.Buffering, Logging: raw.Logging}
	if err := b.proxyKeyChecks(n, path, &raw); err != nil {
		return nil, err
	}
	if p.ResponseTimeout == 0 {
		p.ResponseTimeout = DefaultResponseTimeout
	}
	if raw.Host != "" && len(raw.Hosts) > 0 {
		return nil, b.t.errAt(n, path, "set one of host or hosts, not both")
	}
	p.Hosts = append(raw.Hosts, commaList(raw.Host)...)
	if raw.AppPort != nil {
		if *raw.AppPort < 1 || *raw.AppPort > 65535 {
			return nil, b.t.errAt(mapGet(n, "app_port"), path+".app_port", "must be a port number, got %d", *raw.AppPort)
		}
		p.AppPort = *raw.AppPort
	}
	if err := b.proxySSL(raw.SSL, path+".ssl", p); err != nil {
		return nil, err
	}
	if p.SSL && len(p.Hosts) == 0 {
		return nil, b.t.errAt(n, path, "must set a host to enable automatic SSL")
	}
	if p.SSL && p.SSLCertificatePEM == "" && hostCount > 1 {
		return nil, b.t.errAt(n, path, "SSL is only supported on a single server unless you provide custom certificates, found %d servers", hostCount)
	}
	p.PathPrefixes = append(raw.PathPrefixes, commaList(raw.PathPrefix)...)
	for _, pp := range p.PathPrefixes {
		if !strings.HasPrefix(pp, "/") {
			return nil, b.t.errAt(n, path+".path_prefix", "%q must start with /", pp)
		}
	}
	if h := raw.Healthcheck; h != nil {
		p.Healthcheck.Path, p.Healthcheck.Interval, p.Healthcheck.Timeout = h.Path, h.Interval, h.Timeout
		if h.Path != "" && !strings.HasPrefix(h.Path, "/") {
			return nil, b.t.errAt(mapGet(n, "healthcheck"), path+".healthcheck.path", "must start with /")
		}
	}
	if p.Healthcheck.Path == "" {
		p.Healthcheck.Path = contract.DefaultHealthPath
	}
	if r := raw.Run; r != nil {
		p.Run = &ProxyRun{HTTPPort: r.HTTPPort, HTTPSPort: r.HTTPSPort, MetricsPort: r.MetricsPort, Debug: r.Debug,
			LogMaxSize: r.LogMaxSize, Publish: r.Publish, BindIPs: r.BindIPs, Registry: r.Registry,
			Repository: r.Repository, Version: r.Version, Options: r.Options}
	}
	return p, nil
}

// proxySSL reads proxy.ssl: true or false (a Let's Encrypt certificate), or
// {certificate_pem, private_key_pem} naming the secrets of a custom one.
func (b *builder) proxySSL(s *yaml.Node, path string, p *ProxyConfig) error {
	if isNull(s) {
		return nil
	}
	switch s.Kind {
	case yaml.ScalarNode:
		v, err := b.d.boolean(s, path)
		if err != nil {
			return err
		}
		p.SSL = v
	case yaml.MappingNode:
		var ssl rawSSL
		if err := b.d.decodeStruct(s, path, reflectValue(&ssl)); err != nil {
			return err
		}
		if ssl.CertificatePEM == "" || ssl.PrivateKeyPEM == "" {
			return b.t.errAt(s, path, "needs certificate_pem and private_key_pem (secret names)")
		}
		p.SSL, p.SSLCertificatePEM, p.SSLPrivateKeyPEM = true, ssl.CertificatePEM, ssl.PrivateKeyPEM
		b.needs = append(b.needs,
			secretNeed{name: ssl.CertificatePEM, node: mapGet(s, "certificate_pem"), path: path + ".certificate_pem"},
			secretNeed{name: ssl.PrivateKeyPEM, node: mapGet(s, "private_key_pem"), path: path + ".private_key_pem"})
	default:
		return b.t.errAt(s, path, "must be true, false or {certificate_pem, private_key_pem}")
	}
	return nil
}

// commaList splits Kamal's comma-separated form of host and path_prefix,
// dropping blanks.
func commaList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// proxyChecks rejects what Kamal rejects across roles: conflicting proxy
// run settings on one host and SSL hosts shared between roles.
func (b *builder) proxyChecks() error {
	c := b.c
	for _, host := range c.AllHosts() {
		var first *ProxyRun
		var firstFrom string
		check := func(p *ProxyConfig, from string) error {
			if p == nil || p.Run == nil {
				return nil
			}
			if first == nil {
				first, firstFrom = p.Run, from
				return nil
			}
			if !reflect.DeepEqual(first, p.Run) {
				return b.errKey("proxy", "conflicting proxy run configurations for host %s (%s and %s)", host, firstFrom, from)
			}
			return nil
		}
		for _, r := range c.HostRoles(host) {
			if err := check(r.Proxy, "servers."+r.Name+".proxy.run"); err != nil {
				return err
			}
		}
		for _, a := range c.Accessories {
			for _, h := range a.Hosts {
				if h == host {
					if err := check(a.Proxy, "accessories."+a.Name+".proxy.run"); err != nil {
						return err
					}
				}
			}
		}
	}
	if err := b.proxyHostChecks(); err != nil {
		return err
	}
	seen := map[string]string{}
	for _, r := range c.Roles {
		if r.Proxy == nil || !r.Proxy.SSL {
			continue
		}
		for _, h := range r.Proxy.Hosts {
			if other, ok := seen[h]; ok && other != r.Name {
				return b.t.errAt(b.roleKeyNode(r.Name), "servers."+r.Name+".proxy", "different roles can't share the same host for SSL: %s (also %s)", h, other)
			}
			seen[h] = r.Name
		}
	}
	return nil
}

package spec

// Normalising servers (roles, hosts, tags), per-role proxy/logging/health
// merging, and accessories.

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

var aliasRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (b *builder) servers() error {
	c := b.c
	s := b.raw.Servers
	c.PrimaryRole = firstNonEmpty(b.raw.PrimaryRole, DefaultPrimaryRole)
	if isNull(s) {
		if len(b.raw.Accessories) == 0 {
			return &Error{File: b.t.origin[b.root], Key: "servers", Msg: "missing: no servers or accessories specified"}
		}
		return nil
	}
	var names []string
	switch s.Kind {
	case yaml.SequenceNode:
		names = []string{DefaultPrimaryRole}
		b.roleNodes[DefaultPrimaryRole] = s
	case yaml.MappingNode:
		for i := 0; i+1 < len(s.Content); i += 2 {
			k := s.Content[i]
			if strings.HasPrefix(k.Value, "x-") {
				continue
			}
			if !contract.ValidName(k.Value) {
				return b.t.errAt(k, "servers."+k.Value, "role name must be lowercase letters, digits, - and _")
			}
			names = append(names, k.Value)
			b.roleNodes[k.Value] = s.Content[i+1]
		}
		sort.Strings(names)
	default:
		return b.t.errAt(s, "servers", "must be a list of hosts or a mapping of roles, got %s", kindName(s))
	}
	for _, name := range names {
		r, err := b.role(name)
		if err != nil {
			return err
		}
		c.Roles = append(c.Roles, r)
	}
	primary := c.Role(c.PrimaryRole)
	if primary == nil {
		n := b.keyNode(b.root, "primary_role")
		if n == nil {
			n = b.keyNode(b.root, "servers")
		}
		return b.t.errAt(n, "primary_role", "the primary role %s isn't defined", c.PrimaryRole)
	}
	primary.Primary = true
	if len(primary.Hosts) == 0 {
		return b.t.errAt(b.roleKeyNode(primary.Name), "servers."+primary.Name, "no servers specified for the %s primary role", primary.Name)
	}
	c.PrimaryHost = primary.Hosts[0]
	if !c.AllowEmptyRoles {
		for _, r := range c.Roles {
			if len(r.Hosts) == 0 {
				return b.t.errAt(b.roleKeyNode(r.Name), "servers."+r.Name, "no servers specified for the %s role (allow_empty_roles: true permits this)", r.Name)
			}
		}
	}
	// The root proxy alone, so its errors name proxy.*, not a role.
	if !isNull(b.raw.Proxy) {
		p, err := b.proxy(b.raw.Proxy, "proxy", 0)
		if err != nil {
			return err
		}
		c.Proxy = p
	}
	// Proxy settings depend on which role is primary: set them now.
	for _, r := range c.Roles {
		if err := b.roleProxy(r); err != nil {
			return err
		}
	}
	return nil
}

// roleKeyNode is the key node of a role under servers (for its line).
func (b *builder) roleKeyNode(name string) *yaml.Node {
	s := b.raw.Servers
	if s != nil && s.Kind == yaml.MappingNode {
		if k := b.keyNode(s, name); k != nil {
			return k
		}
	}
	return s
}

func (b *builder) role(name string) (*Role, error) {
	path := "servers." + name
	n := b.roleNodes[name]
	r := &Role{Name: name, HostTags: map[string][]string{}}
	var raw rawRole
	var hostsNode *yaml.Node
	switch {
	case b.raw.Servers.Kind == yaml.SequenceNode:
		hostsNode, path = n, "servers"
	case isNull(n):
	case n.Kind == yaml.SequenceNode:
		hostsNode = n
	case n.Kind == yaml.MappingNode:
		if err := b.d.decodeStruct(n, path, reflectValue(&raw)); err != nil {
			return nil, err
		}
		hostsNode, path = raw.Hosts, path+".hosts"
	default:
		return nil, b.t.errAt(n, path, "must be a list of hosts or a role mapping, got %s", kindName(n))
	}
	if err := b.hosts(hostsNode, path, r); err != nil {
		return nil, err
	}
	rpath := "servers." + name
	r.Cmd = raw.Cmd
	if len(raw.Options) > 0 {
		r.Options = raw.Options
	}
	r.Labels = mergeStrings(b.raw.Labels, raw.Labels)
	roleEnv, _, err := b.decodeEnv(raw.Env, rpath+".env", false)
	if err != nil {
		return nil, err
	}
	r.Env = b.c.Env.merge(roleEnv)
	lg, err := b.logging(b.t.deepMerge(b.raw.Logging, orEmpty(raw.Logging)), rpath+".logging")
	if err != nil {
		return nil, err
	}
	r.Logging = lg
	r.StopTimeout = raw.StopTimeout
	r.AssetPath = firstNonEmpty(raw.AssetPath, b.raw.AssetPath)
	if len(r.HostTags) == 0 {
		r.HostTags = nil
	}
	if raw.Healthcheck != nil || b.raw.Healthcheck != nil {
		hc, err := b.decodeKamal1Health(b.t.deepMerge(orEmpty(b.raw.Healthcheck), orEmpty(raw.Healthcheck)), rpath+".healthcheck")
		if err != nil {
			return nil, err
		}
		r.Healthcheck = hc
	}
	return r, nil
}

// orEmpty returns n, or an empty mapping for nil.
func orEmpty(n *yaml.Node) *yaml.Node {
	if isNull(n) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	return n
}

// hosts reads a list of hosts, each "host" or {host: tag | [tags]}.
func (b *builder) hosts(n *yaml.Node, path string, r *Role) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return b.t.errAt(n, path, "must be a list of hosts, got %s", kindName(n))
	}
	seen := map[string]bool{}
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		var host string
		var tags []string
		switch {
		case e.Kind == yaml.ScalarNode && !isNull(e):
			host = e.Value
		case e.Kind == yaml.MappingNode && len(e.Content) == 2:
			host = e.Content[0].Value
			var l stringOrList
			if err := l.unmarshalNode(b.d, e.Content[1], p+"."+host); err != nil {
				return err
			}
			tags = l
		default:
			return b.t.errAt(e, p, "must be a host or {host: tags}, got %s", kindName(e))
		}
		if strings.TrimSpace(host) == "" || strings.ContainsAny(host, " \t\n/") {
			return b.t.errAt(e, p, "%q is not a host name or address", host)
		}
		if seen[host] {
			return b.t.errAt(e, p, "host %s is listed twice", host)
		}
		seen[host] = true
		r.Hosts = append(r.Hosts, host)
		if len(tags) > 0 {
			r.HostTags[host] = tags
		}
	}
	return nil
}

// logging reads a (merged) logging section; Kamal's default when empty is
// --log-opt max-size=10m.
func (b *builder) logging(n *yaml.Node, path string) (Logging, error) {
	var raw rawLogging
	if !isNull(n) {
		if err := b.d.decodeStruct(n, path, reflectValue(&raw)); err != nil {
			return Logging{}, err
		}
	}
	lg := Logging{Driver: raw.Driver, Options: raw.Options}
	if lg.Driver == "" && len(lg.Options) == 0 {
		lg.Options = map[string]string{"max-size": DefaultLogMaxSize}
	}
	return lg, nil
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

// proxy decodes a (merged) proxy mapping.
func (b *builder) proxy(n *yaml.Node, path string, hostCount int) (*ProxyConfig, error) {
	var raw rawProxy
	if err := b.d.decodeStruct(n, path, reflectValue(&raw)); err != nil {
		return nil, err
	}
	p := &ProxyConfig{AppPort: contract.DefaultAppPort, SSLRedirect: raw.SSLRedirect, ForwardHeaders: raw.ForwardHeaders,
		ResponseTimeout: raw.ResponseTimeout, StripPathPrefix: raw.StripPathPrefix, Buffering: raw.Buffering, Logging: raw.Logging}
	if raw.Host != "" && len(raw.Hosts) > 0 {
		return nil, b.t.errAt(n, path, "set one of host or hosts, not both")
	}
	p.Hosts = raw.Hosts
	if raw.Host != "" {
		for _, h := range strings.Split(raw.Host, ",") {
			if h = strings.TrimSpace(h); h != "" {
				p.Hosts = append(p.Hosts, h)
			}
		}
	}
	if raw.AppPort != nil {
		if *raw.AppPort < 1 || *raw.AppPort > 65535 {
			return nil, b.t.errAt(mapGet(n, "app_port"), path+".app_port", "must be a port number, got %d", *raw.AppPort)
		}
		p.AppPort = *raw.AppPort
	}
	if s := raw.SSL; !isNull(s) {
		switch s.Kind {
		case yaml.ScalarNode:
			v, err := b.d.boolean(s, path+".ssl")
			if err != nil {
				return nil, err
			}
			p.SSL = v
		case yaml.MappingNode:
			var ssl rawSSL
			if err := b.d.decodeStruct(s, path+".ssl", reflectValue(&ssl)); err != nil {
				return nil, err
			}
			if ssl.CertificatePEM == "" || ssl.PrivateKeyPEM == "" {
				return nil, b.t.errAt(s, path+".ssl", "needs certificate_pem and private_key_pem (secret names)")
			}
			p.SSL, p.SSLCertificatePEM, p.SSLPrivateKeyPEM = true, ssl.CertificatePEM, ssl.PrivateKeyPEM
			b.needs = append(b.needs,
				secretNeed{name: ssl.CertificatePEM, node: mapGet(s, "certificate_pem"), path: path + ".ssl.certificate_pem"},
				secretNeed{name: ssl.PrivateKeyPEM, node: mapGet(s, "private_key_pem"), path: path + ".ssl.private_key_pem"})
		default:
			return nil, b.t.errAt(s, path+".ssl", "must be true, false or {certificate_pem, private_key_pem}")
		}
	}
	if p.SSL && len(p.Hosts) == 0 {
		return nil, b.t.errAt(n, path, "must set a host to enable automatic SSL")
	}
	if p.SSL && p.SSLCertificatePEM == "" && hostCount > 1 {
		return nil, b.t.errAt(n, path, "SSL is only supported on a single server unless you provide custom certificates, found %d servers", hostCount)
	}
	p.PathPrefixes = raw.PathPrefixes
	if raw.PathPrefix != "" {
		for _, pp := range strings.Split(raw.PathPrefix, ",") {
			if pp = strings.TrimSpace(pp); pp != "" {
				p.PathPrefixes = append(p.PathPrefixes, pp)
			}
		}
	}
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

func (b *builder) accessories() error {
	var names []string
	for name := range b.raw.Accessories {
		if !strings.HasPrefix(name, "x-") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		a, err := b.accessory(name, b.raw.Accessories[name])
		if err != nil {
			return err
		}
		b.c.Accessories = append(b.c.Accessories, a)
	}
	return nil
}

func (b *builder) accessory(name string, n *yaml.Node) (*Accessory, error) {
	path := "accessories." + name
	if !contract.ValidName(name) {
		return nil, b.t.errAt(n, path, "accessory name must be lowercase letters, digits, - and _")
	}
	var raw rawAccessory
	if isNull(n) {
		return nil, b.t.errAt(n, path, "needs at least an image and a host")
	}
	if err := b.d.decodeStruct(n, path, reflectValue(&raw)); err != nil {
		return nil, err
	}
	a := &Accessory{Name: name, Service: firstNonEmpty(raw.Service, b.c.Service+"-"+name), Image: raw.Image,
		Cmd: raw.Cmd, Port: raw.Port, Labels: raw.Labels, Volumes: raw.Volumes, Network: firstNonEmpty(raw.Network, contract.DefaultNetwork)}
	if len(raw.Options) > 0 {
		a.Options = raw.Options
	}
	if a.Image == "" {
		return nil, b.t.errAt(n, path+".image", "missing (required)")
	}
	reg, err := b.decodeRegistry(raw.Registry, path+".registry")
	if err != nil {
		return nil, err
	}
	a.Registry = reg
	env, _, err := b.decodeEnv(raw.Env, path+".env", false)
	if err != nil {
		return nil, err
	}
	a.Env = env
	for _, f := range raw.Files {
		a.Files = append(a.Files, Mount(f))
	}
	for _, d := range raw.Directories {
		a.Directories = append(a.Directories, Mount(d))
	}
	// Hosts: exactly one of host, hosts, role, roles, tag, tags.
	set := 0
	for _, v := range []bool{raw.Host != "", len(raw.Hosts) > 0, raw.Role != "", len(raw.Roles) > 0, raw.Tag != "", len(raw.Tags) > 0} {
		if v {
			set++
		}
	}
	if set != 1 {
		return nil, b.t.errAt(n, path, "specify one of host, hosts, role, roles, tag or tags")
	}
	switch {
	case raw.Host != "":
		a.Hosts = []string{raw.Host}
	case len(raw.Hosts) > 0:
		a.Hosts = uniq(raw.Hosts)
	case raw.Role != "" || len(raw.Roles) > 0:
		roles := raw.Roles
		if raw.Role != "" {
			roles = []string{raw.Role}
		}
		var lists [][]string
		for _, rn := range roles {
			r := b.c.Role(rn)
			if r == nil {
				return nil, b.t.errAt(n, path+".roles", "role %s isn't defined", rn)
			}
			lists = append(lists, r.Hosts)
		}
		a.Hosts = uniq(lists...)
	default:
		tags := raw.Tags
		if raw.Tag != "" {
			tags = []string{raw.Tag}
		}
		want := map[string]bool{}
		for _, t := range tags {
			want[t] = true
		}
		var lists [][]string
		for _, r := range b.c.Roles {
			for _, h := range r.Hosts {
				for _, t := range r.HostTags[h] {
					if want[t] {
						lists = append(lists, []string{h})
					}
				}
			}
		}
		a.Hosts = uniq(lists...)
		if len(a.Hosts) == 0 {
			return nil, b.t.errAt(n, path+".tags", "no host carries tag %s", strings.Join(tags, " or "))
		}
	}
	if !isNull(raw.Proxy) {
		p, err := b.proxy(raw.Proxy, path+".proxy", len(a.Hosts))
		if err != nil {
			return nil, err
		}
		a.Proxy = p
	}
	return a, nil
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

func mergeStrings(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

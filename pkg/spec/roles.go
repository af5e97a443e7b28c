package spec

// Servers: roles, their hosts and host tags, and what each role merges
// from the root (labels, env, logging, Kamal 1 healthcheck).

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// Role is one server role with everything merged from the root.
type Role struct {
	Name  string   `yaml:"name"`
	Hosts []string `yaml:"hosts"`
	// HostTags are the tags of each host that has some.
	HostTags map[string][]string `yaml:"host_tags,omitempty"`
	Primary  bool                `yaml:"primary,omitempty"`
	Cmd      string              `yaml:"cmd,omitempty"`
	// Options are docker run options (`--key value`), restart included.
	Options map[string][]string `yaml:"options,omitempty"`
	// Labels are the config labels (root merged with role), without
	// Kamal's default service/role/destination labels.
	Labels map[string]string `yaml:"labels,omitempty"`
	// Env is root env merged with role env; host tags come on top per host.
	Env     Env     `yaml:"env,omitempty"`
	Logging Logging `yaml:"logging"`
	// Proxy is the role's proxy settings (root merged with role); nil when
	// the role runs no proxy.
	Proxy *ProxyConfig `yaml:"proxy,omitempty"`
	// Healthcheck is the Kamal 1 healthcheck (root merged with role).
	Healthcheck *Kamal1Healthcheck `yaml:"healthcheck,omitempty"`
	StopTimeout *contract.Duration `yaml:"stop_timeout,omitempty"`
	AssetPath   string             `yaml:"asset_path,omitempty"`
}

// Logging is docker's log driver and options.
type Logging struct {
	Driver  string            `yaml:"driver,omitempty"`
	Options map[string]string `yaml:"options,omitempty"`
}

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
	lg := Logging(raw)
	if lg.Driver == "" && len(lg.Options) == 0 {
		lg.Options = map[string]string{"max-size": DefaultLogMaxSize}
	}
	return lg, nil
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

package spec

// Accessories: long-running companion services and the hosts they run on.

import (
	"sort"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// Accessory is a long-running companion service (db, redis, ...).
type Accessory struct {
	Name string `yaml:"name"`
	// Service is the container name (default <service>-<name>).
	Service  string    `yaml:"service"`
	Image    string    `yaml:"image"`
	Registry *Registry `yaml:"registry,omitempty"`
	// Hosts are resolved from host/hosts/role/roles/tag/tags.
	Hosts       []string            `yaml:"hosts"`
	Cmd         string              `yaml:"cmd,omitempty"`
	Port        string              `yaml:"port,omitempty"`
	Labels      map[string]string   `yaml:"labels,omitempty"`
	Options     map[string][]string `yaml:"options,omitempty"`
	Env         Env                 `yaml:"env,omitempty"`
	Files       []Mount             `yaml:"files,omitempty"`
	Directories []Mount             `yaml:"directories,omitempty"`
	Volumes     []string            `yaml:"volumes,omitempty"`
	Network     string              `yaml:"network,omitempty"`
	Proxy       *ProxyConfig        `yaml:"proxy,omitempty"`
}

// Mount is an accessory file or directory (`local:remote[:options]` or the
// mapping form).
type Mount struct {
	Local   string `yaml:"local"`
	Remote  string `yaml:"remote"`
	Mode    string `yaml:"mode,omitempty"`
	Owner   string `yaml:"owner,omitempty"`
	Options string `yaml:"options,omitempty"`
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
	hosts, err := b.accessoryHosts(n, path, &raw)
	if err != nil {
		return nil, err
	}
	a.Hosts = hosts

	if !isNull(raw.Proxy) {
		p, err := b.proxy(raw.Proxy, path+".proxy", len(a.Hosts))
		if err != nil {
			return nil, err
		}
		a.Proxy = p
	}
	return a, nil
}

// accessoryHosts resolves where an accessory runs: exactly one of host,
// hosts, role, roles, tag or tags.
func (b *builder) accessoryHosts(n *yaml.Node, path string, raw *rawAccessory) ([]string, error) {
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
		return []string{raw.Host}, nil
	case len(raw.Hosts) > 0:
		return uniq(raw.Hosts), nil
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
		return uniq(lists...), nil
	}
	tags := raw.Tags
	if raw.Tag != "" {
		tags = []string{raw.Tag}
	}
	hosts := b.taggedHosts(tags)
	if len(hosts) == 0 {
		return nil, b.t.errAt(n, path+".tags", "no host carries tag %s", strings.Join(tags, " or "))
	}
	return hosts, nil
}

// taggedHosts are the hosts of any role carrying one of tags, first seen
// first.
func (b *builder) taggedHosts(tags []string) []string {
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
	return uniq(lists...)
}

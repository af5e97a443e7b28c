package spec

// Env sections: clear values, secret names and host tags, how they merge,
// and the env a role gets on one host.

import (
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// SecretRef is one env.secret entry: env var Name takes secret From
// (`A:B` in deploy.yml; From == Name without a colon).
type SecretRef struct {
	Name string
	From string
}

// Env is a set of environment variables: clear values and secret names.
type Env struct {
	Clear  map[string]string
	Secret []SecretRef
}

// MarshalYAML prints secrets by name, values redacted.
func (e Env) MarshalYAML() (any, error) {
	type view struct {
		Clear  map[string]string `yaml:"clear,omitempty"`
		Secret map[string]string `yaml:"secret,omitempty"`
	}
	v := view{Clear: e.Clear}
	if len(e.Secret) > 0 {
		v.Secret = map[string]string{}
		for _, s := range e.Secret {
			v.Secret[s.Name] = contract.Redacted
		}
	}
	return v, nil
}

// IsZero lets omitempty drop an empty env.
func (e Env) IsZero() bool { return len(e.Clear) == 0 && len(e.Secret) == 0 }

// merge returns e with o over it, as Kamal merges env: clear values are
// overridden key by key, secrets are the union (o's alias wins for a name).
func (e Env) merge(o Env) Env {
	out := Env{Clear: map[string]string{}}
	for k, v := range e.Clear {
		out.Clear[k] = v
	}
	for k, v := range o.Clear {
		out.Clear[k] = v
	}
	idx := map[string]int{}
	for _, s := range append(append([]SecretRef{}, e.Secret...), o.Secret...) {
		if i, ok := idx[s.Name]; ok {
			out.Secret[i] = s
			continue
		}
		idx[s.Name] = len(out.Secret)
		out.Secret = append(out.Secret, s)
	}
	if len(out.Clear) == 0 {
		out.Clear = nil
	}
	return out
}

// HostEnv returns the env of role on host: root, then role, then the
// host's tags in order (later tags win).
func (c *Config) HostEnv(r *Role, host string) Env {
	env := r.Env
	for _, tag := range r.HostTags[host] {
		if te, ok := c.EnvTags[tag]; ok {
			env = env.merge(te)
		}
	}
	return env
}

// decodeEnv reads an env section: either a plain mapping of clear values or
// {clear, secret, tags}. tags are returned when allowed.
func (b *builder) decodeEnv(n *yaml.Node, path string, allowTags bool) (Env, map[string]Env, error) {
	if isNull(n) {
		return Env{}, nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return Env{}, nil, b.t.errAt(n, path, "must be a mapping, got %s", kindName(n))
	}
	structured := b.keyNode(n, "clear") != nil || b.keyNode(n, "secret") != nil || b.keyNode(n, "tags") != nil
	var env Env
	var raw rawEnv
	if structured {
		if err := b.d.decodeStruct(n, path, reflectValue(&raw)); err != nil {
			return Env{}, nil, err
		}
		env.Clear = raw.Clear
	} else {
		if err := b.d.decodeMap(n, path, reflectValue(&env.Clear)); err != nil {
			return Env{}, nil, err
		}
	}
	for k := range env.Clear {
		if !contract.ValidEnvName(k) {
			return Env{}, nil, b.t.errAt(b.envKeyNode(n, k), joinPath(path, k), "not a valid environment variable name")
		}
	}
	secretNode := mapGet(n, "secret")
	for i, s := range raw.Secret {
		p := fmt.Sprintf("%s.secret[%d]", path, i)
		node := secretNode
		if node != nil && node.Kind == yaml.SequenceNode && i < len(node.Content) {
			node = node.Content[i]
		}
		name, from, _ := strings.Cut(s, ":")
		if from == "" {
			from = name
		}
		if !contract.ValidEnvName(name) {
			return Env{}, nil, b.t.errAt(node, p, "%q is not a valid environment variable name", name)
		}
		env.Secret = append(env.Secret, SecretRef{Name: name, From: from})
		b.needs = append(b.needs, secretNeed{name: from, node: node, path: p})
	}
	var tags map[string]Env
	if len(raw.Tags) > 0 {
		if !allowTags {
			return Env{}, nil, b.t.errAt(b.keyNode(n, "tags"), path+".tags", "tags are only allowed in the root env")
		}
		tags = map[string]Env{}
		for name, tn := range raw.Tags {
			te, _, err := b.decodeEnv(tn, path+".tags."+name, false)
			if err != nil {
				return Env{}, nil, err
			}
			tags[name] = te
		}
	}
	return env, tags, nil
}

func (b *builder) envKeyNode(m *yaml.Node, k string) *yaml.Node {
	if c := mapGet(m, "clear"); c != nil {
		if n := b.keyNode(c, k); n != nil {
			return n
		}
	}
	if n := b.keyNode(m, k); n != nil {
		return n
	}
	return m
}

func (b *builder) env() error {
	env, tags, err := b.decodeEnv(b.raw.Env, "env", true)
	if err != nil {
		return err
	}
	b.c.Env = env
	b.c.EnvTags = tags
	return nil
}

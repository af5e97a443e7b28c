package spec

// Kamal 1 configs: telling the generations apart, the traefik section and
// the healthcheck section (root and per role).

import (
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// Kamal generations a config can be written for.
const (
	Kamal1 = 1 // traefik:, top-level healthcheck:, stop_wait_time
	Kamal2 = 2 // proxy:
)

// Traefik is the Kamal 1 traefik section (the proxy container's settings).
type Traefik struct {
	Image    string              `yaml:"image,omitempty"`
	HostPort string              `yaml:"host_port,omitempty"`
	Publish  *bool               `yaml:"publish,omitempty"`
	Labels   map[string]string   `yaml:"labels,omitempty"`
	Args     map[string]string   `yaml:"args,omitempty"`
	Options  map[string][]string `yaml:"options,omitempty"`
	Env      Env                 `yaml:"env,omitempty"`
}

// Kamal1Healthcheck is Kamal 1's healthcheck section.
type Kamal1Healthcheck struct {
	Cmd         string            `yaml:"cmd,omitempty"`
	Path        string            `yaml:"path,omitempty"`
	Port        int               `yaml:"port,omitempty"`
	Interval    contract.Duration `yaml:"interval,omitempty"`
	MaxAttempts int               `yaml:"max_attempts,omitempty"`
	Cord        string            `yaml:"cord,omitempty"`
	LogLines    int               `yaml:"log_lines,omitempty"`
}

// generation tells Kamal 1 configs from Kamal 2 ones; mixing is an error.
func (b *builder) generation() error {
	var v1, v2 *yaml.Node
	var v1Key, v2Key string
	mark := func(n *yaml.Node, key string, gen int) {
		if n == nil {
			return
		}
		if gen == Kamal1 && v1 == nil {
			v1, v1Key = n, key
		}
		if gen == Kamal2 && v2 == nil {
			v2, v2Key = n, key
		}
	}
	mark(b.keyNode(b.root, "traefik"), "traefik", Kamal1)
	mark(b.keyNode(b.root, "healthcheck"), "healthcheck", Kamal1)
	mark(b.keyNode(b.root, "stop_wait_time"), "stop_wait_time", Kamal1)
	mark(b.keyNode(b.root, "proxy"), "proxy", Kamal2)
	if s := b.raw.Servers; s != nil && s.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(s.Content); i += 2 {
			role := s.Content[i+1]
			name := s.Content[i].Value
			mark(b.keyNode(role, "traefik"), "servers."+name+".traefik", Kamal1)
			mark(b.keyNode(role, "healthcheck"), "servers."+name+".healthcheck", Kamal1)
			mark(b.keyNode(role, "proxy"), "servers."+name+".proxy", Kamal2)
		}
	}
	for name, a := range b.raw.Accessories {
		mark(b.keyNode(a, "proxy"), "accessories."+name+".proxy", Kamal2)
	}
	if v1 != nil && v2 != nil {
		return b.t.errAt(v1, v1Key, "Kamal 1 key cannot be mixed with Kamal 2's proxy (%s at line %d); use one generation", v2Key, v2.Line)
	}
	b.c.Generation = Kamal2
	if v1 != nil {
		b.c.Generation = Kamal1
	}
	return nil
}

func (b *builder) kamal1() error {
	r := &b.raw
	if r.Traefik != nil {
		tr := &Traefik{Image: r.Traefik.Image, HostPort: r.Traefik.HostPort, Publish: r.Traefik.Publish,
			Labels: r.Traefik.Labels, Args: r.Traefik.Args, Options: r.Traefik.Options}
		env, _, err := b.decodeEnv(r.Traefik.Env, "traefik.env", false)
		if err != nil {
			return err
		}
		tr.Env = env
		b.c.Traefik = tr
	}
	if r.Healthcheck != nil {
		hc, err := b.decodeKamal1Health(r.Healthcheck, "healthcheck")
		if err != nil {
			return err
		}
		b.c.Healthcheck = hc
	}
	return nil
}

func (b *builder) decodeKamal1Health(n *yaml.Node, path string) (*Kamal1Healthcheck, error) {
	var raw rawHealthcheck
	if !isNull(n) {
		if err := b.d.decodeStruct(n, path, reflectValue(&raw)); err != nil {
			return nil, err
		}
	}
	hc := &Kamal1Healthcheck{
		Cmd: raw.Cmd, Path: firstNonEmpty(raw.Path, contract.DefaultHealthPath), Port: DefaultKamal1HealthPort,
		Interval: contract.Duration(time.Second), MaxAttempts: DefaultKamal1MaxAttempts, Cord: "/tmp/kamal-cord", LogLines: 50,
	}
	if raw.Port != nil {
		if *raw.Port < 1 || *raw.Port > 65535 {
			return nil, b.t.errAt(mapGet(n, "port"), path+".port", "must be a port number, got %d", *raw.Port)
		}
		hc.Port = *raw.Port
	}
	if raw.Interval != nil {
		hc.Interval = *raw.Interval
	}
	if raw.MaxAttempts != nil {
		hc.MaxAttempts = *raw.MaxAttempts
	}
	if raw.LogLines != nil {
		hc.LogLines = *raw.LogLines
	}
	if c := raw.Cord; !isNull(c) {
		if c.Kind != yaml.ScalarNode {
			return nil, b.t.errAt(c, path+".cord", "must be a path or false")
		}
		hc.Cord = c.Value
		if c.Value == "false" {
			hc.Cord = ""
		}
	}
	if !strings.HasPrefix(hc.Path, "/") {
		return nil, b.t.errAt(mapGet(n, "path"), path+".path", "must start with /")
	}
	return hc, nil
}

package spec

// The registry section (root and per accessory), and the value-or-secret
// form its username and password take.

import (
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// Registry is where the app image is pushed and pulled.
type Registry struct {
	Server   string `yaml:"server,omitempty"`
	Username string `yaml:"username,omitempty"`
	// Password is the resolved password. Never marshalled.
	Password string `yaml:"-"`
	// PasswordSecret names the secret the password came from, if any.
	PasswordSecret string `yaml:"-"`
}

// MarshalYAML redacts the password.
func (r Registry) MarshalYAML() (any, error) {
	type view struct {
		Server   string `yaml:"server,omitempty"`
		Username string `yaml:"username,omitempty"`
		Password string `yaml:"password,omitempty"`
	}
	v := view{Server: r.Server, Username: r.Username}
	if r.Password != "" || r.PasswordSecret != "" {
		v.Password = contract.Redacted
	}
	return v, nil
}

// Local reports a registry on localhost (Kamal starts one and pushes there).
func (r *Registry) Local() bool {
	return r != nil && (len(r.Server) >= 9 && r.Server[:9] == "localhost" || len(r.Server) >= 9 && r.Server[:9] == "127.0.0.1")
}

func (b *builder) registry() error {
	r, err := b.decodeRegistry(b.raw.Registry, "registry")
	if err != nil {
		return err
	}
	b.c.Registry = r
	if b.c.Image == "" {
		if r.Local() {
			b.c.Image = b.c.Service
		} else {
			return &Error{File: b.t.origin[b.root], Key: "image", Msg: "missing (required)"}
		}
	}
	if strings.ContainsAny(b.c.Image, " \t\n") {
		return b.errKey("image", "%q is not an image name", b.c.Image)
	}
	return nil
}

// decodeRegistry reads a registry mapping; username/password given as a
// list name a secret (Kamal's `password: [KAMAL_REGISTRY_PASSWORD]`).
func (b *builder) decodeRegistry(n *yaml.Node, path string) (*Registry, error) {
	if isNull(n) {
		return nil, nil
	}
	var raw rawRegistry
	if err := b.d.decodeStruct(n, path, reflectValue(&raw)); err != nil {
		return nil, err
	}
	reg := &Registry{Server: raw.Server}
	user, userSecret, err := b.secretOrValue(raw.Username, path+".username")
	if err != nil {
		return nil, err
	}
	if userSecret != "" {
		b.needs = append(b.needs, secretNeed{name: userSecret, node: raw.Username, path: path + ".username"})
		reg.Username = "<secret " + userSecret + ">" // replaced in resolveSecrets
	} else {
		reg.Username = user
	}
	pw, pwSecret, err := b.secretOrValue(raw.Password, path+".password")
	if err != nil {
		return nil, err
	}
	reg.Password, reg.PasswordSecret = pw, pwSecret
	if pwSecret != "" {
		b.needs = append(b.needs, secretNeed{name: pwSecret, node: raw.Password, path: path + ".password"})
	}
	if !reg.Local() && raw.Username != nil && raw.Password == nil {
		return nil, b.t.errAt(n, path+".password", "missing (required with username)")
	}
	return reg, nil
}

// secretOrValue reads "value" or [SECRET_NAME].
func (b *builder) secretOrValue(n *yaml.Node, path string) (value, secret string, err error) {
	if isNull(n) {
		return "", "", nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, "", nil
	case yaml.SequenceNode:
		if len(n.Content) != 1 || n.Content[0].Kind != yaml.ScalarNode || n.Content[0].Value == "" {
			return "", "", b.t.errAt(n, path, "must be a value or a list with one secret name")
		}
		return "", n.Content[0].Value, nil
	}
	return "", "", b.t.errAt(n, path, "must be a value or a list with one secret name, got %s", kindName(n))
}

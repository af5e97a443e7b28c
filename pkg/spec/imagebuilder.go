package spec

// The builder section: how the image is built.

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Builder is how the image is built.
type Builder struct {
	Arch       []string          `yaml:"arch,omitempty"`
	Remote     string            `yaml:"remote,omitempty"`
	Local      *bool             `yaml:"local,omitempty"`
	Driver     string            `yaml:"driver,omitempty"`
	Context    string            `yaml:"context,omitempty"`
	Dockerfile string            `yaml:"dockerfile,omitempty"`
	Target     string            `yaml:"target,omitempty"`
	Args       map[string]string `yaml:"args,omitempty"`
	// Secrets are build secret names (values from the secrets files).
	Secrets    []string      `yaml:"secrets,omitempty"`
	SSH        string        `yaml:"ssh,omitempty"`
	Cache      *BuilderCache `yaml:"cache,omitempty"`
	Pack       *BuilderPack  `yaml:"pack,omitempty"`
	Provenance string        `yaml:"provenance,omitempty"`
	SBOM       string        `yaml:"sbom,omitempty"`
	// Multiarch is Kamal 1's builder.multiarch.
	Multiarch *bool `yaml:"multiarch,omitempty"`
}

// BuilderCache is builder.cache.
type BuilderCache struct {
	Type    string `yaml:"type,omitempty" kamal:"type"`
	Options string `yaml:"options,omitempty" kamal:"options"`
	Image   string `yaml:"image,omitempty" kamal:"image"`
}

// BuilderPack is builder.pack (Cloud Native Buildpacks).
type BuilderPack struct {
	Builder    string   `yaml:"builder,omitempty" kamal:"builder"`
	Buildpacks []string `yaml:"buildpacks,omitempty" kamal:"buildpacks"`
}

// imageBuilder normalises the builder section, Kamal 1's remote and local
// mappings included. Build secrets are resolved when present.
func (b *builder) imageBuilder() error {
	bl := b.raw.Builder
	if bl == nil {
		return nil
	}
	c := b.c
	c.Builder = Builder{Arch: bl.Arch, Driver: bl.Driver, Context: bl.Context, Dockerfile: bl.Dockerfile,
		Target: bl.Target, Args: bl.Args, Secrets: bl.Secrets, SSH: bl.SSH, Cache: bl.Cache, Pack: bl.Pack,
		Provenance: bl.Provenance, SBOM: bl.SBOM, Multiarch: bl.Multiarch}
	bn := mapGet(b.root, "builder")
	for _, a := range c.Builder.Arch {
		if a != "amd64" && a != "arm64" {
			return b.t.errAt(mapGet(bn, "arch"), "builder.arch", "must be amd64 or arm64, got %q", a)
		}
	}
	if err := b.builderRemote(bl.Remote); err != nil {
		return err
	}
	if err := b.builderLocal(bl.Local); err != nil {
		return err
	}
	for i, s := range bl.Secrets {
		b.needs = append(b.needs, secretNeed{name: s, node: mapGet(bn, "secrets"), path: fmt.Sprintf("builder.secrets[%d]", i), optional: true})
	}
	return nil
}

// builderRemote reads builder.remote: a connection string, or Kamal 1's
// {arch, host} whose arch applies when builder.arch is not set.
func (b *builder) builderRemote(n *yaml.Node) error {
	if isNull(n) {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		b.c.Builder.Remote = n.Value
	case yaml.MappingNode:
		var h rawBuilderHost
		if err := b.d.decodeStruct(n, "builder.remote", reflectValue(&h)); err != nil {
			return err
		}
		b.c.Builder.Remote = h.Host
		if h.Arch != "" && len(b.c.Builder.Arch) == 0 {
			b.c.Builder.Arch = []string{h.Arch}
		}
	default:
		return b.t.errAt(n, "builder.remote", "must be a connection string like ssh://user@host")
	}
	return nil
}

// builderLocal reads builder.local: true or false, or Kamal 1's {arch, host}
// whose arch is built first.
func (b *builder) builderLocal(n *yaml.Node) error {
	if isNull(n) {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := b.d.boolean(n, "builder.local")
		if err != nil {
			return err
		}
		b.c.Builder.Local = &v
	case yaml.MappingNode:
		var h rawBuilderHost
		if err := b.d.decodeStruct(n, "builder.local", reflectValue(&h)); err != nil {
			return err
		}
		if h.Arch != "" {
			b.c.Builder.Arch = append([]string{h.Arch}, b.c.Builder.Arch...)
		}
	default:
		return b.t.errAt(n, "builder.local", "must be true or false")
	}
	return nil
}

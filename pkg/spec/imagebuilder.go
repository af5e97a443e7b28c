package spec

// The builder section: how the image is built.

import (
	"fmt"
	"strings"

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
	if err := b.builderRefusals(bn); err != nil {
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
		return b.sshRemote(n, "builder.remote")
	case yaml.MappingNode:
		var h rawBuilderHost
		if err := b.d.decodeStruct(n, "builder.remote", reflectValue(&h)); err != nil {
			return err
		}
		b.c.Builder.Remote = h.Host
		if h.Arch != "" && len(b.c.Builder.Arch) == 0 {
			b.c.Builder.Arch = []string{h.Arch}
		}
		return b.sshRemote(mapGet(n, "host"), "builder.remote.host")
	default:
		return b.t.errAt(n, "builder.remote", "must be a connection string like ssh://user@host")
	}
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
		if h.Host != "" {
			return b.t.errAt(mapGet(n, "host"), "builder.local.host",
				"Kamal 1's local builder on another Docker host is not supported; build there over SSH with builder.remote: ssh://user@host")
		}
		if h.Arch != "" {
			b.c.Builder.Arch = append([]string{h.Arch}, b.c.Builder.Arch...)
		}
	default:
		return b.t.errAt(n, "builder.local", "must be true or false")
	}
	return nil
}

// sshRemote checks that builder.remote is reached over SSH.
func (b *builder) sshRemote(n *yaml.Node, path string) error {
	r := b.c.Builder.Remote
	if r == "" || strings.HasPrefix(r, "ssh://") && len(r) > len("ssh://") {
		return nil
	}
	return b.t.errAt(n, path, "%q: a remote builder is reached over SSH; use ssh://user@host (tcp:// and other Docker endpoints are not supported)", r)
}

// builderRefusals refuses, at load, the builder settings Kamal rejects and
// those this engine cannot carry out (docs/config.md, Builder, says why).
func (b *builder) builderRefusals(bn *yaml.Node) error {
	bl := &b.c.Builder
	if bl.Local != nil && !*bl.Local && bl.Remote == "" {
		return b.t.errAt(mapGet(bn, "local"), "builder.local", "local: false needs a remote builder: set builder.remote: ssh://user@host")
	}
	if bl.Pack != nil {
		if len(bl.Arch) > 1 {
			return b.t.errAt(mapGet(bn, "pack"), "builder.pack", "buildpacks build for one arch only; set a single builder.arch")
		}
		return b.t.errAt(mapGet(bn, "pack"), "builder.pack", "Cloud Native Buildpacks (the pack CLI) are not supported; build with a Dockerfile (builder.dockerfile)")
	}
	if len(bl.Arch) > 1 || bl.Multiarch != nil && *bl.Multiarch {
		key, n := "builder.arch", mapGet(bn, "arch")
		if len(bl.Arch) <= 1 {
			key, n = "builder.multiarch", mapGet(bn, "multiarch")
		}
		return b.t.errAt(n, key, "multi-arch images are not supported: the engine's BuildKit (docker driver) builds one platform and there is no emulation here; "+
			"set one arch (builder.arch: amd64) and give hosts of the other arch a config of their own")
	}
	if d := bl.Driver; d != "" && d != "docker" {
		return b.t.errAt(mapGet(bn, "driver"), "builder.driver", "driver %q is not supported: docker kamal builds with the engine's own BuildKit (the docker driver); "+
			"docker-container and the other drivers need the moby/buildkit image; remove driver or set driver: docker", d)
	}
	for _, a := range []struct{ key, v string }{{"provenance", bl.Provenance}, {"sbom", bl.SBOM}} {
		if a.v != "" && !isFalse(a.v) {
			return b.t.errAt(mapGet(bn, a.key), "builder."+a.key, "%s attestations cannot be stored: the docker driver on this engine (no containerd image store) keeps none; set %s: false or remove it", a.key, a.key)
		}
	}
	if bl.Provenance != "" {
		bl.Provenance = "false"
	}
	if bl.SBOM != "" {
		bl.SBOM = "false"
	}
	return b.cacheRefusals(mapGet(bn, "cache"))
}

// cacheRefusals checks builder.cache: Kamal's types, and gha refused.
func (b *builder) cacheRefusals(n *yaml.Node) error {
	c := b.c.Builder.Cache
	if c == nil {
		return nil
	}
	switch c.Type {
	case "registry":
		if b.c.Registry == nil {
			return b.t.errAt(mapGet(n, "type"), "builder.cache.type", "the registry cache needs a registry: section (the cache image is pushed there)")
		}
		if o := c.Options; o != "" && o != "mode=min" {
			return b.t.errAt(mapGet(n, "options"), "builder.cache.options", "%q cannot be honoured: the docker driver exports the cache inline, in the cache image itself, "+
				"which holds mode=min only; remove options (or set mode=min)", o)
		}
		return nil
	case "gha":
		return b.t.errAt(mapGet(n, "type"), "builder.cache.type", "the gha cache is not supported: it needs GitHub Actions' cache service and a docker-container builder; use type: registry")
	}
	return b.t.errAt(mapGet(n, "type"), "builder.cache.type", "invalid cache type %q: want registry (or Kamal's gha, not supported here)", c.Type)
}

func isFalse(v string) bool {
	switch strings.ToLower(v) {
	case "false", "no", "off", "0":
		return true
	}
	return false
}

package spec

// Load: read config/deploy.yml (and the destination file), render its ERB,
// merge, decode strictly, resolve secrets and normalise into Config.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/secrets"
)

// DefaultConfigFile is where Kamal keeps the config.
const DefaultConfigFile = "config/deploy.yml"

// KamalCompatVersion is the Kamal version whose config this build reads;
// minimum_version above it is refused.
const KamalCompatVersion = "2.12.0"

// maxConfigSize bounds a config file.
const maxConfigSize = 4 << 20

// LoadOptions say where the config is and what the loader may see.
type LoadOptions struct {
	// ConfigFile defaults to DefaultConfigFile, relative to Dir.
	ConfigFile string
	// Destination is `-d`: config/deploy.<dest>.yml is merged over the base
	// and .kamal/secrets.<dest> is read instead of .kamal/secrets.
	Destination string
	// Dir is the app root (where .kamal/ lives); default the working dir.
	Dir string
	// Env looks up process environment variables (ERB ENV, secrets
	// substitution, secrets fallback); default os.LookupEnv.
	Env func(string) (string, bool)
	// Arch is the local Docker arch for Kamal::Utils.docker_arch in ERB;
	// default from runtime.GOARCH.
	Arch string
	// RunCommand runs $(command) substitutions of secrets files; default sh.
	RunCommand func(ctx context.Context, command string, env []string) (string, error)
	// CommandTimeout bounds each secrets command.
	CommandTimeout time.Duration
	// NoSecretsFiles skips reading .kamal/secrets*; secrets then come from
	// Env only (used by fuzzing and tests).
	NoSecretsFiles bool
}

func (o *LoadOptions) defaults() {
	if o.ConfigFile == "" {
		o.ConfigFile = DefaultConfigFile
	}
	if o.Env == nil {
		o.Env = os.LookupEnv
	}
	if o.Arch == "" {
		o.Arch = localArch()
	}
}

// localArch is Kamal::Utils.docker_arch: the Docker arch of this machine as
// Kamal names it (only amd64 and arm64 exist for it).
func localArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "amd64"
}

// Load reads, validates and normalises the config.
func Load(ctx context.Context, opts LoadOptions) (*Config, error) {
	opts.defaults()
	if opts.Destination != "" && !contract.ValidName(opts.Destination) {
		return nil, &Error{Msg: fmt.Sprintf("destination %q must match %s", opts.Destination, contract.NamePattern)}
	}
	t := newTree()
	files := []string{opts.ConfigFile}
	if opts.Destination != "" {
		files = append(files, destinationFile(opts.ConfigFile, opts.Destination))
	}
	var root *yaml.Node
	for i, f := range files {
		data, err := readConfigFile(opts.Dir, f)
		if err != nil {
			if i > 0 && errors.Is(err, fs.ErrNotExist) {
				return nil, &Error{File: f, Msg: fmt.Sprintf("config for destination %q not found", opts.Destination)}
			}
			return nil, &Error{File: f, Msg: "read config: " + errText(err)}
		}
		n, err := parseFile(t, f, data, opts)
		if err != nil {
			return nil, err
		}
		root = t.deepMerge(root, n)
	}
	return build(ctx, t, root, files, opts)
}

// LoadBytes loads a config given as bytes (no destination file).
func LoadBytes(ctx context.Context, name string, data []byte, opts LoadOptions) (*Config, error) {
	opts.defaults()
	t := newTree()
	root, err := parseFile(t, name, data, opts)
	if err != nil {
		return nil, err
	}
	return build(ctx, t, root, []string{name}, opts)
}

func parseFile(t *tree, name string, data []byte, opts LoadOptions) (*yaml.Node, error) {
	if len(data) > maxConfigSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d bytes", maxConfigSize)}
	}
	rendered, err := renderERB(name, data, erbEnv{lookup: opts.Env, arch: opts.Arch})
	if err != nil {
		return nil, err
	}
	return t.parseYAML(name, rendered)
}

// destinationFile maps config/deploy.yml to config/deploy.<dest>.yml.
func destinationFile(base, dest string) string {
	ext := filepath.Ext(base)
	return strings.TrimSuffix(base, ext) + "." + dest + ext
}

func readConfigFile(dir, f string) ([]byte, error) {
	path := f
	if dir != "" && !filepath.IsAbs(f) {
		path = filepath.Join(dir, f)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	return os.ReadFile(path)
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, fs.ErrNotExist) {
			return "file not found"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// secretNeed is a secret the config refers to, with where it did.
type secretNeed struct {
	name     string
	node     *yaml.Node
	path     string
	optional bool // builder secrets: resolved when present
}

// builder carries the state of one normalisation.
type builder struct {
	t     *tree
	d     *decoder
	opts  LoadOptions
	raw   rawConfig
	root  *yaml.Node
	c     *Config
	needs []secretNeed
	// roleNodes are the raw role entries by name.
	roleNodes map[string]*yaml.Node
}

func build(ctx context.Context, t *tree, root *yaml.Node, files []string, opts LoadOptions) (*Config, error) {
	b := &builder{t: t, d: &decoder{t: t}, opts: opts, root: root, roleNodes: map[string]*yaml.Node{}}
	if err := b.d.decodeStruct(root, "", reflectValue(&b.raw)); err != nil {
		return nil, err
	}
	b.c = &Config{Destination: opts.Destination, files: files}
	steps := []func() error{
		b.generation, b.basics, b.registry, b.env, b.servers, b.accessories,
		b.boot, b.timeouts, b.paths, b.kamal1, b.proxyChecks, b.tools, b.extensions,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if err := b.resolveSecrets(ctx); err != nil {
		return nil, err
	}
	return b.c, nil
}

// keyNode returns the key node of key in the root mapping (for lines).
func (b *builder) keyNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

func (b *builder) errKey(key, format string, args ...any) error {
	n := b.keyNode(b.root, strings.SplitN(key, ".", 2)[0])
	if n == nil {
		n = b.root
	}
	return b.t.errAt(n, key, format, args...)
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

func (b *builder) basics() error {
	r := &b.raw
	c := b.c
	if strings.TrimSpace(r.Service) == "" {
		return &Error{File: b.t.origin[b.root], Line: 0, Key: "service", Msg: "missing (required)"}
	}
	if !contract.ValidName(r.Service) {
		return b.errKey("service", "%q must be lowercase letters, digits, - and _ (starting with a letter or digit)", r.Service)
	}
	c.Service = r.Service
	c.Image = r.Image
	c.MinimumVersion = r.MinimumVersion
	if r.MinimumVersion != "" && versionLess(KamalCompatVersion, r.MinimumVersion) {
		return b.errKey("minimum_version", "requires Kamal %s, this build reads Kamal %s configs", r.MinimumVersion, KamalCompatVersion)
	}
	c.Labels = r.Labels
	c.Volumes = r.Volumes
	c.AllowEmptyRoles = r.AllowEmptyRoles
	c.RequireDestination = r.RequireDestination
	if r.RequireDestination && b.opts.Destination == "" {
		e := b.errKey("require_destination", "%v", ErrDestinationRequired).(*Error)
		return &destError{e}
	}
	if len(r.Aliases) > 0 {
		c.Aliases = r.Aliases
		for name := range r.Aliases {
			if !aliasRE.MatchString(name) {
				return b.errKey("aliases", "alias %q may contain only lowercase letters, digits, - and _", name)
			}
		}
	}
	return nil
}

// destError lets errors.Is(err, ErrDestinationRequired) work.
type destError struct{ err *Error }

func (e *destError) Error() string   { return e.err.Error() }
func (e *destError) Unwrap() []error { return []error{e.err, ErrDestinationRequired} }

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

func (b *builder) boot() error {
	rb := b.raw.Boot
	// Roles deploy in parallel unless parallel_roles is false (Kamal's
	// default is role by role): a batch then takes as long as its slowest
	// role, not their sum.
	if rb == nil {
		b.c.Boot = Boot{ParallelRoles: true, hostCount: len(b.c.AllHosts())}
		return nil
	}
	bt := Boot{Wait: rb.Wait, ParallelRoles: rb.ParallelRoles == nil || *rb.ParallelRoles, hostCount: len(b.c.AllHosts())}
	if !isNull(rb.Limit) {
		if rb.Limit.Kind != yaml.ScalarNode {
			return b.t.errAt(rb.Limit, "boot.limit", "must be a number of hosts or a percentage like \"25%%\", got %s", kindName(rb.Limit))
		}
		count, pct, ok := parseLimit(rb.Limit.Value)
		if !ok {
			return b.t.errAt(rb.Limit, "boot.limit", "must be a positive number of hosts or a percentage from 1%% to 100%%, got %q", rb.Limit.Value)
		}
		bt.Limit, bt.count, bt.percent = strings.TrimSpace(rb.Limit.Value), count, pct
	}
	b.c.Boot = bt
	return nil
}

func (b *builder) timeouts() error {
	r := &b.raw
	c := b.c
	c.ReadinessDelay = contract.Duration(contract.DefaultReadinessDelay)
	if r.ReadinessDelay != nil {
		c.ReadinessDelay = *r.ReadinessDelay
	}
	c.DeployTimeout = contract.Duration(contract.DefaultDeployTimeout)
	if r.DeployTimeout != nil {
		c.DeployTimeout = *r.DeployTimeout
	}
	c.DrainTimeout = contract.Duration(contract.DefaultDrainTimeout)
	if r.DrainTimeout != nil {
		c.DrainTimeout = *r.DrainTimeout
	}
	c.StopTimeout = r.StopTimeout
	if r.StopWaitTime != nil {
		if r.StopTimeout != nil {
			return b.errKey("stop_wait_time", "set either stop_wait_time (Kamal 1) or stop_timeout, not both")
		}
		c.StopTimeout = r.StopWaitTime
	}
	c.RetainContainers = contract.DefaultRetainContainers
	if r.RetainContainers != nil {
		if *r.RetainContainers < 1 {
			return b.errKey("retain_containers", "must retain at least 1 container, got %d", *r.RetainContainers)
		}
		c.RetainContainers = *r.RetainContainers
	}
	for _, role := range c.Roles {
		if role.StopTimeout == nil {
			role.StopTimeout = c.StopTimeout
		}
	}
	return nil
}

func (b *builder) paths() error {
	r := &b.raw
	c := b.c
	c.HooksPath = firstNonEmpty(r.HooksPath, DefaultHooksPath)
	c.SecretsPath = firstNonEmpty(r.SecretsPath, DefaultSecretsPath)
	c.AssetPath = r.AssetPath
	c.ErrorPagesPath = r.ErrorPagesPath
	c.RunDirectory = r.RunDirectory
	if n := r.HooksOutput; !isNull(n) {
		c.HooksOutput = map[string]string{}
		level := func(v *yaml.Node, p string) (string, error) {
			s := strings.TrimPrefix(v.Value, ":")
			if v.Kind != yaml.ScalarNode || (s != "quiet" && s != "verbose") {
				return "", b.t.errAt(v, p, "must be quiet or verbose")
			}
			return s, nil
		}
		switch n.Kind {
		case yaml.ScalarNode:
			l, err := level(n, "hooks_output")
			if err != nil {
				return err
			}
			c.HooksOutput["*"] = l
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				l, err := level(n.Content[i+1], "hooks_output."+n.Content[i].Value)
				if err != nil {
					return err
				}
				c.HooksOutput[n.Content[i].Value] = l
			}
		default:
			return b.t.errAt(n, "hooks_output", "must be quiet, verbose or a mapping of hook to level")
		}
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

func (b *builder) tools() error {
	r := &b.raw
	c := b.c
	// SSH.
	c.SSH = SSH{User: DefaultSSHUser, Port: DefaultSSHPort}
	if s := r.SSH; s != nil {
		c.SSH.User = firstNonEmpty(s.User, DefaultSSHUser)
		if s.Port != nil {
			if *s.Port < 1 || *s.Port > 65535 {
				return b.t.errAt(mapGet(mapGet(b.root, "ssh"), "port"), "ssh.port", "must be a port number, got %d", *s.Port)
			}
			c.SSH.Port = *s.Port
		}
		c.SSH.Proxy, c.SSH.ProxyCommand, c.SSH.LogLevel = s.Proxy, s.ProxyCommand, s.LogLevel
		c.SSH.KeysOnly, c.SSH.Keys, c.SSH.ForwardAgent = s.KeysOnly, s.Keys, s.ForwardAgent
		for i, kd := range s.KeyData {
			if strings.HasPrefix(strings.TrimSpace(kd), "-----BEGIN") {
				c.SSH.KeyData = append(c.SSH.KeyData, kd)
				continue
			}
			b.needs = append(b.needs, secretNeed{name: kd, node: mapGet(mapGet(b.root, "ssh"), "key_data"), path: fmt.Sprintf("ssh.key_data[%d]", i)})
			c.SSH.KeyData = append(c.SSH.KeyData, "<secret "+kd+">")
		}
		if n := s.Config; !isNull(n) {
			switch {
			case n.Kind == yaml.ScalarNode && n.Value == "true":
			case n.Kind == yaml.ScalarNode && n.Value == "false":
				c.SSH.Config = []string{}
			default:
				var l stringOrList
				if err := l.unmarshalNode(b.d, n, "ssh.config"); err != nil {
					return err
				}
				c.SSH.Config = l
			}
		}
	}
	// Builder.
	if bl := r.Builder; bl != nil {
		c.Builder = Builder{Arch: bl.Arch, Driver: bl.Driver, Context: bl.Context, Dockerfile: bl.Dockerfile,
			Target: bl.Target, Args: bl.Args, Secrets: bl.Secrets, SSH: bl.SSH, Cache: bl.Cache, Pack: bl.Pack,
			Provenance: bl.Provenance, SBOM: bl.SBOM, Multiarch: bl.Multiarch}
		bn := mapGet(b.root, "builder")
		for _, a := range c.Builder.Arch {
			if a != "amd64" && a != "arm64" {
				return b.t.errAt(mapGet(bn, "arch"), "builder.arch", "must be amd64 or arm64, got %q", a)
			}
		}
		if n := bl.Remote; !isNull(n) {
			switch n.Kind {
			case yaml.ScalarNode:
				c.Builder.Remote = n.Value
			case yaml.MappingNode: // Kamal 1: {arch, host}
				var h rawBuilderHost
				if err := b.d.decodeStruct(n, "builder.remote", reflectValue(&h)); err != nil {
					return err
				}
				c.Builder.Remote = h.Host
				if h.Arch != "" && len(c.Builder.Arch) == 0 {
					c.Builder.Arch = []string{h.Arch}
				}
			default:
				return b.t.errAt(n, "builder.remote", "must be a connection string like ssh://user@host")
			}
		}
		if n := bl.Local; !isNull(n) {
			switch n.Kind {
			case yaml.ScalarNode:
				v, err := b.d.boolean(n, "builder.local")
				if err != nil {
					return err
				}
				c.Builder.Local = &v
			case yaml.MappingNode: // Kamal 1: {arch, host}
				var h rawBuilderHost
				if err := b.d.decodeStruct(n, "builder.local", reflectValue(&h)); err != nil {
					return err
				}
				if h.Arch != "" {
					c.Builder.Arch = append([]string{h.Arch}, c.Builder.Arch...)
				}
			default:
				return b.t.errAt(n, "builder.local", "must be true or false")
			}
		}
		for i, s := range bl.Secrets {
			b.needs = append(b.needs, secretNeed{name: s, node: mapGet(bn, "secrets"), path: fmt.Sprintf("builder.secrets[%d]", i), optional: true})
		}
	}
	c.SSHKit = r.SSHKit
	if o := r.Output; o != nil {
		c.Output = &Output{}
		if o.OTel != nil {
			c.Output.OTelEndpoint = o.OTel.Endpoint
		}
		if o.File != nil {
			c.Output.FilePath = o.File.Path
		}
	}
	return nil
}

func (b *builder) extensions() error {
	r := &b.raw
	if m := r.Migrations; m != nil {
		if strings.TrimSpace(m.Cmd) == "" {
			return b.errKey("migrations.cmd", "missing (required when migrations is set)")
		}
		b.c.Migrations = &Migrations{Cmd: m.Cmd, Timeout: m.Timeout}
		if m.Timeout == 0 {
			b.c.Migrations.Timeout = contract.Duration(DefaultMigrationTimeout)
		}
	}
	b.c.Sidecar = Sidecar{Monitor: DefaultSidecarMonitor}
	if s := r.Sidecar; s != nil && s.Monitor != "" {
		b.c.Sidecar.Monitor = s.Monitor
	}
	return nil
}

// resolveSecrets reads the secrets files and resolves every secret the
// config names; a missing one is an error naming it and where it is used.
func (b *builder) resolveSecrets(ctx context.Context) error {
	c := b.c
	files := []string{c.SecretsPath + "-common", c.SecretsPath}
	if c.Destination != "" {
		files[1] = c.SecretsPath + "." + c.Destination
	}
	vals := map[string]string{}
	var found []string
	if !b.opts.NoSecretsFiles && len(b.needs) > 0 {
		var err error
		vals, found, err = secrets.LoadFiles(ctx, files, secrets.Options{
			Lookup: b.opts.Env, Run: b.opts.RunCommand, Dir: b.opts.Dir, Timeout: b.opts.CommandTimeout,
		})
		if err != nil {
			return err
		}
	}
	c.secrets = map[string]string{}
	for _, need := range b.needs {
		v, ok := vals[need.name]
		if !ok {
			v, ok = b.opts.Env(need.name)
		}
		if !ok {
			if need.optional {
				continue
			}
			where := "no secrets file (" + strings.Join(files, ", ") + ") exists"
			if len(found) > 0 {
				where = "not in " + strings.Join(found, ", ")
			}
			return b.t.errAt(need.node, need.path, "secret %s not found: %s and not in the environment", need.name, where)
		}
		c.secrets[need.name] = v
	}
	// Fill values that were placeholders.
	fill := func(r *Registry) {
		if r == nil {
			return
		}
		if r.PasswordSecret != "" {
			r.Password = c.secrets[r.PasswordSecret]
		}
		if strings.HasPrefix(r.Username, "<secret ") {
			r.Username = c.secrets[strings.TrimSuffix(strings.TrimPrefix(r.Username, "<secret "), ">")]
		}
	}
	fill(c.Registry)
	for _, a := range c.Accessories {
		fill(a.Registry)
	}
	for i, kd := range c.SSH.KeyData {
		if strings.HasPrefix(kd, "<secret ") {
			c.SSH.KeyData[i] = c.secrets[strings.TrimSuffix(strings.TrimPrefix(kd, "<secret "), ">")]
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// versionLess compares dotted numeric versions (a < b).
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			fmt.Sscanf(pa[i], "%d", &x)
		}
		if i < len(pb) {
			fmt.Sscanf(pb[i], "%d", &y)
		}
		if x != y {
			return x < y
		}
	}
	return false
}

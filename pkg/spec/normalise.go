package spec

// The normaliser: one pass over the decoded raw config, a step per section,
// each turning raw keys into Config fields and rejecting what Kamal rejects
// with file, line and key.

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

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
		b.refusals, b.generation, b.basics, b.registry, b.env, b.servers, b.accessories,
		b.boot, b.timeouts, b.paths, b.errorPages, b.kamal1, b.proxyChecks, b.ssh, b.imageBuilder, b.output, b.extensions,
		b.acme,
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

var aliasRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

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

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// versionLess compares dotted numeric versions (a < b). A missing
// component counts as 0, so 2.12 == 2.12.0.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x = versionPart(pa[i])
		}
		if i < len(pb) {
			y = versionPart(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// versionPart is the number a version component starts with ("3" of
// "3-rc1"). A component that is not a number at all ("beta1", "x") or
// overflows counts as 0: that is how minimum_version has always been read
// (it is informative, and a malformed one is not refused), so a fallback
// rather than an error keeps configs that load today loading.
func versionPart(s string) int {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		return 0
	}
	return n
}

package spec

// Keys of Kamal's config that docker kamal cannot honour: the load fails
// at the key's line, saying why and what to do instead (docs/config.md
// lists them). Keys refused for proxy reasons live in proxyhost.go.

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	msgRunDirectory = "docker kamal keeps its runtime state (lock, audit log, retained specs) in the sidecar's " +
		"state directory on each host, not in a run directory; remove it"
	msgPoolIdleTimeout = "docker kamal holds one SSH connection per host for the length of a command, kept alive " +
		"by keepalives; there is no idle pool to expire; remove it"
	msgCord = "docker kamal drains through Traefik (the old container leaves the route before it stops), " +
		"with no cord file; remove it (drain_timeout bounds the drain)"
	msgOutput = "docker kamal prints command output to the terminal only; remove it " +
		"(redirect the output, e.g. | tee log/kamal.log; each host keeps an audit log: docker kamal audit)"
)

// refusals fails on the first refused key present.
func (b *builder) refusals() error {
	paths := [][2]string{
		{"run_directory", msgRunDirectory},
		{"sshkit.pool_idle_timeout", msgPoolIdleTimeout},
		{"healthcheck.cord", msgCord},
		{"output.file.path", msgOutput},
		{"output.otel.endpoint", msgOutput},
	}
	if s := mapGet(b.root, "servers"); s != nil && s.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(s.Content); i += 2 {
			paths = append(paths, [2]string{"servers." + s.Content[i].Value + ".healthcheck.cord", msgCord})
		}
	}
	for _, p := range paths {
		if k := b.keyAt(p[0]); k != nil {
			return b.t.errAt(k, p[0], "%s", p[1])
		}
	}
	return nil
}

// keyAt is the key node of a dotted path of mapping keys, or nil.
func (b *builder) keyAt(path string) *yaml.Node {
	segs := strings.Split(path, ".")
	m := b.root
	for _, s := range segs[:len(segs)-1] {
		if m = mapGet(m, s); m == nil {
			return nil
		}
	}
	if m.Kind != yaml.MappingNode {
		return nil
	}
	k := b.keyNode(m, segs[len(segs)-1])
	if k == nil || slices.Contains(segs, "") {
		return nil
	}
	return k
}

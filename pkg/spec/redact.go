package spec

// The config as `docker kamal config` prints it: secrets redacted by type
// (Env, Registry), and, in case a secret reached a field of plain text
// (a registry username given as a secret), every value that equals a
// secret replaced whole. Never a substring: masking inside other text
// would mangle it (RAILS_ENV: [REDACTED]uction) and show where the secret
// occurs.

import (
	"bytes"
	"fmt"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// Redacted returns the normalised config as YAML with every secret value
// replaced by Redacted; names are kept so users can see what is used.
func (c *Config) Redacted() ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	secret := map[string]bool{}
	for _, v := range c.SecretValues() {
		secret[v] = true
	}
	redactValues(&doc, secret)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return buf.Bytes(), nil
}

// redactValues replaces every scalar value (a mapping's value or a list
// item, never a key) that equals a secret, whole.
func redactValues(n *yaml.Node, secret map[string]bool) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, ch := range n.Content {
			redactValues(ch, secret)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			redactValues(n.Content[i], secret)
		}
	case yaml.ScalarNode:
		if secret[n.Value] {
			n.Value, n.Tag, n.Style = contract.Redacted, "!!str", 0
		}
	}
}

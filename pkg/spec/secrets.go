package spec

// Secrets the config refers to: collected while normalising, resolved at
// the end from the secrets files or the environment, and never printed.

import (
	"context"
	"sort"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/secrets"
	"gopkg.in/yaml.v3"
)

// secretNeed is a secret the config refers to, with where it did.
type secretNeed struct {
	name     string
	node     *yaml.Node
	path     string
	optional bool // builder secrets: resolved when present
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
			SetEnv: kamalSetEnv(c.Destination),
		})
		if err != nil {
			return err
		}
	}
	c.hookSecrets = newHookSecrets(files, vals, !b.opts.NoSecretsFiles && len(b.needs) > 0, b.opts)
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

// SecretNames returns the names of every resolved secret, sorted.
func (c *Config) SecretNames() []string {
	var out []string
	for k := range c.secrets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SecretValues returns every resolved secret value; callers use it to scrub
// output (never to print).
func (c *Config) SecretValues() []string {
	var out []string
	for _, v := range c.secrets {
		if v != "" {
			out = append(out, v)
		}
	}
	if c.Registry != nil && c.Registry.Password != "" {
		out = append(out, c.Registry.Password)
	}
	for _, a := range c.Accessories {
		if a.Registry != nil && a.Registry.Password != "" {
			out = append(out, a.Registry.Password)
		}
	}
	return out
}

// Secret returns a resolved secret by name.
func (c *Config) Secret(name string) (string, bool) {
	v, ok := c.secrets[name]
	return v, ok
}

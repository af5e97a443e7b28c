package spec

// Every value of the secrets files, for the hooks Kamal gives them to
// (pre-connect, pre-deploy, post-deploy: run_hook secrets: true). A config
// that refers to no secret never read the files; they are read on first
// use then, once, as Kamal reads them lazily.

import (
	"context"
	"maps"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/secrets"
)

type hookSecrets struct {
	once  sync.Once
	files []string
	opts  LoadOptions
	vals  map[string]string
	err   error
}

func newHookSecrets(files []string, vals map[string]string, loaded bool, opts LoadOptions) *hookSecrets {
	h := &hookSecrets{files: files, opts: opts}
	if loaded || opts.NoSecretsFiles {
		h.once.Do(func() { h.vals = vals })
	}
	return h
}

// HookSecrets returns every value the secrets files define (a copy; never
// to print). Errors are those of reading the files.
func (c *Config) HookSecrets(ctx context.Context) (map[string]string, error) {
	h := c.hookSecrets
	if h == nil {
		return nil, nil
	}
	h.once.Do(func() {
		h.vals, _, h.err = secrets.LoadFiles(ctx, h.files, secrets.Options{
			Lookup: h.opts.Env, Run: h.opts.RunCommand, Dir: h.opts.Dir, Timeout: h.opts.CommandTimeout,
			SetEnv: kamalSetEnv(c.Destination),
		})
	})
	return maps.Clone(h.vals), h.err
}

package spec

// Kamal 1's .env. Before .kamal/secrets existed, Kamal loaded .env (and,
// with -d, .env.<dest> over it) into its environment before reading the
// config, overriding the shell's values: ERB and env.secret both saw them.
// A Kamal 1 app that has no .kamal/secrets* yet keeps working: its .env
// files are read the same way, with the same dotenv syntax as the secrets
// files.

import (
	"context"
	"path/filepath"

	"github.com/dockerkamal/docker-kamal/pkg/secrets"
)

// kamal1EnvFiles are the files Kamal 1 loaded, later ones winning.
func kamal1EnvFiles(destination string) []string {
	if destination == "" {
		return []string{".env"}
	}
	return []string{".env", ".env." + destination}
}

// hasKamalSecretsFiles reports whether any .kamal/secrets* exists in dir.
func hasKamalSecretsFiles(dir string) bool {
	m, err := filepath.Glob(filepath.Join(dir, DefaultSecretsPath+"*"))
	return err == nil && len(m) > 0
}

// withKamal1Env puts the values of Kamal 1's .env files in front of
// opts.Env when the app has no .kamal/secrets* file.
func withKamal1Env(ctx context.Context, opts *LoadOptions) error {
	if opts.NoSecretsFiles || hasKamalSecretsFiles(opts.Dir) {
		return nil
	}
	vals, found, err := secrets.LoadFiles(ctx, kamal1EnvFiles(opts.Destination), secrets.Options{
		Lookup: opts.Env, Run: opts.RunCommand, Dir: opts.Dir, Timeout: opts.CommandTimeout,
		SetEnv: kamalSetEnv(opts.Destination),
	})
	if err != nil || len(found) == 0 {
		return err
	}
	next := opts.Env
	opts.Env = func(name string) (string, bool) {
		if v, ok := vals[name]; ok {
			return v, true
		}
		return next(name)
	}
	return nil
}

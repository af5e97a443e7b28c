package fleetops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// DefaultMigrationTimeout bounds `migrations:` when it sets no timeout.
const DefaultMigrationTimeout = 10 * time.Minute

// migrator runs `migrations.cmd` once with the new image on the primary
// host, with the primary role's env and secrets, before any swap.
type migrator struct{ s *Session }

func (m migrator) Migrate(ctx context.Context, image, version string) error {
	cfg := m.s.Cfg
	host := m.s.primaryHost()
	d, err := cfg.Deploy(cfg.PrimaryRole, host, version, image, "")
	if err != nil {
		return err
	}
	envFile, err := envFileContent(d)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, migrationTimeout(cfg))
	defer cancel()
	conn, err := m.s.pool.Get(ctx, host)
	if err != nil {
		return err
	}
	name := contract.ContainerName(cfg.Service, "migrate", cfg.Destination, version)
	// The env file travels on stdin into a 0600 temp file so no secret is on
	// a command line (visible in ps) or left on disk.
	script := fmt.Sprintf(`set -u; umask 077; f=$(mktemp /tmp/kamal-env.XXXXXX); trap 'rm -f "$f"' EXIT; cat > "$f"; `+
		`docker rm -f %s >/dev/null 2>&1; docker run --rm --name %s --network %s --env-file "$f" %s %s`,
		transport.Quote(name), transport.Quote(name), transport.Quote(d.Network), transport.Quote(image), cfg.Migrations.Cmd)
	var out bytes.Buffer
	m.s.out.Verbose("[%s] docker run --rm --name %s %s %s", host, name, image, cfg.Migrations.Cmd)
	if err := conn.Run(ctx, script, strings.NewReader(envFile), &out, &out); err != nil {
		if ctx.Err() != nil {
			// Closing the SSH session does not stop the container; do it
			// here so a cancelled deploy leaves no migration running.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_ = conn.Run(cctx, "docker rm -f "+transport.Quote(name)+" >/dev/null 2>&1", nil, nil, nil) // best effort; the migration's error is the one to report
		}
		return fmt.Errorf("run migrations on %s: %w\n%s", host, err, m.s.out.Redact(output.LastLines(out.String(), 30)))
	}
	m.s.out.Verbose("%s", m.s.out.Redact(strings.TrimSpace(out.String())))
	return nil
}

// migrationTimeout bounds the migration run: migrations.timeout, else
// DefaultMigrationTimeout.
func migrationTimeout(cfg *spec.Config) time.Duration {
	if t := cfg.Migrations.Timeout.D(); t > 0 {
		return t
	}
	return DefaultMigrationTimeout
}

// ErrMultilineEnv is an env value docker --env-file cannot carry.
var ErrMultilineEnv = errors.New("multi-line values cannot be passed to docker --env-file")

// envFileContent renders a spec's clear and secret env as a docker
// --env-file.
func envFileContent(d *contract.Deploy) (string, error) {
	all := make(map[string]string, len(d.Env)+len(d.SecretEnv))
	for k, v := range d.Env {
		all[k] = v
	}
	for k, v := range d.SecretEnv {
		all[k] = v
	}
	return envFileOf(all)
}

// envFileOf renders env as a docker --env-file, sorted by name. The file
// format has no quoting, so a multi-line value is an error (naming the
// variable, never the value).
func envFileOf(env map[string]string) (string, error) {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if strings.ContainsAny(env[k], "\n\r") {
			return "", fmt.Errorf("env %s: %w", k, ErrMultilineEnv)
		}
		b.WriteString(k + "=" + env[k] + "\n")
	}
	return b.String(), nil
}

package fleetcmd

// Exported wrappers over fleetcmd internals for the rest of the command
// surface (pkg/surface): accessory and Traefik boot, host preparation,
// targets, the deploy lock and the audit log.

import (
	"context"
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// AppDir is the app root: the directory holding config/.
func AppDir(g *command.Globals) string { return appDir(g) }

// Filter is the --hosts/--roles/--primary selection of the command.
func (s *Session) Filter() spec.Filter { return s.filter() }

// Targets are the selected (host, role) pairs in config order, and the
// primary one.
func (s *Session) Targets() ([]fleet.Target, fleet.Target, error) { return s.targets() }

// Plan is the deploy plan of the selected targets (primary first, batches).
func (s *Session) Plan() (fleet.Plan, error) { return s.plan() }

// EachHost runs fn on hosts in parallel (bounded by the pool) and joins
// the per-host errors, each naming its host.
func (s *Session) EachHost(ctx context.Context, hosts []string, fn func(ctx context.Context, c *transport.Conn) error) error {
	return s.eachHost(ctx, hosts, fn)
}

// PrepareHosts makes sure each host has Docker, the kamal network and the
// sidecar's directories.
func (s *Session) PrepareHosts(ctx context.Context, hosts []string) error {
	return s.prepareHosts(ctx, hosts)
}

// EnsureSidecar ships and (re)starts the sidecar where it is missing or
// outdated.
func (s *Session) EnsureSidecar(ctx context.Context, hosts []string) error {
	sh := newShipper(s, hosts)
	defer sh.Close()
	return s.ensureSidecar(ctx, sh, hosts)
}

// AccessoryNames are the config's accessory names, sorted.
func (s *Session) AccessoryNames() []string { return s.accessoryNames() }

// AccessoryEnv resolves an accessory's env (clear values and secrets).
func (s *Session) AccessoryEnv(a *spec.Accessory) (map[string]string, error) {
	return s.accessoryEnv(a)
}

// AccessoryHome is where an accessory's files and directories live on the
// host c reaches: <login home>/<accessory service>, absolute.
func AccessoryHome(ctx context.Context, c *transport.Conn, a *spec.Accessory) (string, error) {
	return accessoryHome(ctx, c, a)
}

// BootAccessory boots a on every host given (a subset of a.Hosts):
// prepares the hosts, ships the image if the local engine has it, uploads
// files, creates directories and runs the container. A running accessory
// is left alone; a stopped one is started.
func (s *Session) BootAccessory(ctx context.Context, a *spec.Accessory, hosts []string) error {
	if len(hosts) == 0 {
		return nil
	}
	if err := s.prepareHosts(ctx, hosts); err != nil {
		return err
	}
	sh := newShipper(s, hosts)
	defer sh.Close()
	if err := s.shipIfLocal(ctx, sh, a.Image, hosts); err != nil {
		return err
	}
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		status, err := s.bootAccessory(ctx, c, a)
		if err != nil {
			return fmt.Errorf("boot accessory %s: %w", a.Name, err)
		}
		s.Out.Step(c.Host(), "accessory "+a.Name, status, 0)
		return nil
	})
}

// ProxyHosts are the hosts among hosts that run a proxied role.
func (s *Session) ProxyHosts(hosts []string) []string { return s.proxyHosts(hosts) }

// TraefikRequest is the Traefik boot request from the config.
func (s *Session) TraefikRequest() contract.TraefikRequest { return s.traefikRequest() }

// BootTraefik prepares hosts, ensures their sidecar, ships the Traefik
// image and has each proxy host's sidecar boot Traefik.
func (s *Session) BootTraefik(ctx context.Context, hosts []string) error {
	if err := s.prepareHosts(ctx, hosts); err != nil {
		return err
	}
	sh := newShipper(s, hosts)
	defer sh.Close()
	if err := s.ensureSidecar(ctx, sh, hosts); err != nil {
		return err
	}
	return s.bootTraefik(ctx, sh, hosts)
}

// ShipImage ships image (from the local engine) to hosts, sending only the
// layers each lacks.
func (s *Session) ShipImage(ctx context.Context, image string, hosts []string) error {
	sh := newShipper(s, hosts)
	defer sh.Close()
	return sh.shipTo(ctx, image, hosts)
}

// AcquireLock takes the deploy lock on the primary host (waiting up to
// wait) and returns its release.
func (s *Session) AcquireLock(ctx context.Context, message, version string, wait time.Duration) (func(context.Context) error, error) {
	l := &locker{s: s, wait: wait}
	if err := l.Acquire(ctx, message, version); err != nil {
		return nil, fmt.Errorf("acquire deploy lock: %w", err)
	}
	return l.Release, nil
}

// Audit appends one audit line on every host of the config.
func (s *Session) Audit(ctx context.Context, action, version, result string) error {
	return auditor{s}.Audit(ctx, action, version, s.Out.Redact(result))
}

// DeployRole applies the wire spec of role on host for version (image
// already on the host), streaming progress at -v.
func (s *Session) DeployRole(ctx context.Context, t fleet.Target, version string) error {
	sw := &swapper{s: s, version: version, image: s.ImageRef(version)}
	return sw.Deploy(ctx, t)
}

// LiveVersion is the version the sidecar routes to for t ("" if none).
func (s *Session) LiveVersion(ctx context.Context, t fleet.Target) (string, error) {
	return (&swapper{s: s}).LiveVersion(ctx, t)
}

// EnvFile renders a wire spec's clear and secret env as a docker
// --env-file (never put it on a command line).
func EnvFile(d *contract.Deploy) (string, error) { return envFileContent(d) }

package fleetops

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/build"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarimage"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Timeouts of host preparation.
const (
	sidecarReadyTimeout = 60 * time.Second
	hostPrepTimeout     = 2 * time.Minute
)

// prepareHosts makes sure each host has Docker, the kamal network and the
// sidecar's directories.
func (s *Session) prepareHosts(ctx context.Context, hosts []string) error {
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, hostPrepTimeout)
		defer cancel()
		t0 := time.Now()
		script := fmt.Sprintf(`set -e
command -v docker >/dev/null || { echo "docker is not installed (docker kamal server bootstrap installs it)" >&2; exit 1; }
docker network inspect %[1]s >/dev/null 2>&1 || docker network create %[1]s >/dev/null
mkdir -p %[2]s %[3]s
chmod 0700 %[2]s`, contract.DefaultNetwork, contract.RunDir, contract.StateDir)
		var errb strings.Builder
		if err := c.Run(ctx, script, nil, nil, &errb); err != nil {
			return fmt.Errorf("prepare host: %w: %s", err, strings.TrimSpace(errb.String()))
		}
		s.out.Step(c.Host(), "docker and network "+contract.DefaultNetwork, "ready", time.Since(t0))
		return nil
	})
}

// ensureSidecar ships the sidecar image and (re)starts the sidecar where it
// is missing or runs another version. App containers and Traefik are
// separate containers, so replacing the sidecar drops no request.
func (s *Session) ensureSidecar(ctx context.Context, sh *shipper, hosts []string) error {
	ref, version, err := sidecarimage.Ensure(ctx, s.Opts.DockerFlags)
	if err != nil {
		return err
	}
	if err := sh.shipTo(ctx, ref, hosts); err != nil {
		return fmt.Errorf("ship sidecar image: %w", err)
	}
	runArgs := sidecarRunArgs(s.Cfg, version)
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		t0 := time.Now()
		// An error here is no sidecar container: start one, as for an outdated one.
		cur, _ := c.Output(ctx, `docker inspect --format '{{.State.Running}} {{index .Config.Labels "kamal.sidecar"}}' `+contract.SidecarContainerName+` 2>/dev/null`)
		status := "running"
		if strings.TrimSpace(string(cur)) != "true "+version {
			cmd := "docker rm -f " + contract.SidecarContainerName + " >/dev/null 2>&1; docker " + transport.Quote(runArgs...)
			if out, err := c.Output(ctx, cmd); err != nil {
				return fmt.Errorf("start sidecar: %w: %s", err, strings.TrimSpace(string(out)))
			}
			status = "started " + version
		}
		if err := s.waitSidecar(ctx, c.Host()); err != nil {
			return err
		}
		s.out.Step(c.Host(), "sidecar", status, time.Since(t0))
		return nil
	})
}

func (s *Session) waitSidecar(ctx context.Context, host string) error {
	cl, err := s.sidecar(ctx, host)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sidecarReadyTimeout)
	defer cancel()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		last = cl.Health(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sidecar did not answer within %s: %w", sidecarReadyTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// shipIfLocal ships an image the local engine has; hosts without it that
// the local engine lacks too are left to pull it themselves.
func (s *Session) shipIfLocal(ctx context.Context, sh *shipper, image string, hosts []string) error {
	if !build.ImageExists(ctx, s.Opts.DockerFlags, image) {
		s.out.Verbose("%s is not in the local engine; hosts pull it themselves", image)
		return nil
	}
	return sh.shipTo(ctx, image, hosts)
}

// accessoryNames are the config's accessory names, sorted.
func (s *Session) accessoryNames() []string {
	var n []string
	for _, a := range s.Cfg.Accessories {
		n = append(n, a.Name)
	}
	slices.Sort(n)
	return n
}

// sidecarRunArgs are the docker run arguments of the sidecar, its
// monitoring listener published on sidecar.monitor.
func sidecarRunArgs(cfg *spec.Config, version string) []string {
	monitor := cfg.Sidecar.Monitor
	if monitor == "" {
		monitor = contract.DefaultMonitorAddr
	}
	return contract.RunArgs(version, contract.DefaultNetwork, monitor)
}

// shipSetupImagesEarly starts shipping the Traefik image and the
// accessories' images (those the local engine has) in the background, so
// they travel while the sidecar ships and starts and the app image ships;
// the boots after pre-deploy wait for them.
func (s *Session) shipSetupImagesEarly(ctx context.Context, sh *shipper, hosts []string) {
	if px := s.proxyHostsAmong(hosts); len(px) > 0 && build.ImageExists(ctx, s.Opts.DockerFlags, s.traefikImage()) {
		sh.shipEarly(ctx, s.traefikImage(), px)
	}
	for _, name := range s.accessoryNames() {
		a := s.Cfg.Accessory(name)
		if build.ImageExists(ctx, s.Opts.DockerFlags, a.Image) {
			sh.shipEarly(ctx, a.Image, a.Hosts)
		}
	}
}

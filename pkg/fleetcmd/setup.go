package fleetcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarimage"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Traefik image defaults. DOCKER_KAMAL_TRAEFIK_IMAGE overrides the default
// (not a config's traefik.image), e.g. for an image built in-house.
const (
	DefaultTraefikImage = "traefik:v3.6.12"
	EnvTraefikImage     = "DOCKER_KAMAL_TRAEFIK_IMAGE"
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
		s.Out.Step(c.Host(), "docker and network "+contract.DefaultNetwork, "ready", time.Since(t0))
		return nil
	})
}

// ensureSidecar ships the sidecar image and (re)starts the sidecar where it
// is missing or runs another version. App containers and Traefik are
// separate containers, so replacing the sidecar drops no request.
func (s *Session) ensureSidecar(ctx context.Context, sh *shipper, hosts []string) error {
	ref, version, err := sidecarimage.Ensure(ctx, s.G.DockerFlags)
	if err != nil {
		return err
	}
	if err := sh.shipTo(ctx, ref, hosts); err != nil {
		return fmt.Errorf("ship sidecar image: %w", err)
	}
	monitor := s.Cfg.Sidecar.Monitor
	if monitor == "" {
		monitor = contract.DefaultMonitorAddr
	}
	runArgs := contract.RunArgs(version, contract.DefaultNetwork, monitor)
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		t0 := time.Now()
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
		s.Out.Step(c.Host(), "sidecar", status, time.Since(t0))
		return nil
	})
}

func (s *Session) waitSidecar(ctx context.Context, host string) error {
	cl, err := s.Sidecar(ctx, host)
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

// TraefikImage is the Traefik image to run.
func (s *Session) TraefikImage() string {
	if s.Cfg.Traefik != nil && s.Cfg.Traefik.Image != "" {
		return s.Cfg.Traefik.Image
	}
	if v := os.Getenv(EnvTraefikImage); v != "" {
		return v
	}
	return DefaultTraefikImage
}

// traefikRequest maps the config's traefik/proxy settings to the sidecar's.
func (s *Session) traefikRequest() contract.TraefikRequest {
	req := contract.TraefikRequest{Image: s.TraefikImage(), Who: Performer(), ACME: s.Cfg.ACME()}
	if t := s.Cfg.Traefik; t != nil {
		req.Args = t.Args
		req.Options = t.Options
		req.Labels = t.Labels
		req.Env = t.Env.Clear
		if t.HostPort != "" {
			if p, err := strconv.Atoi(strings.TrimSpace(t.HostPort)); err == nil {
				req.HTTPPort = p
			}
		}
		if t.Publish != nil && !*t.Publish {
			req.HTTPPort, req.HTTPSPort = -1, -1
		}
	}
	return req
}

// proxyHosts are the hosts that run a proxied role.
func (s *Session) proxyHosts(hosts []string) []string {
	want := map[string]bool{}
	for _, h := range s.Cfg.ProxyHosts() {
		want[h] = true
	}
	var out []string
	for _, h := range hosts {
		if want[h] {
			out = append(out, h)
		}
	}
	return out
}

// bootTraefik ships the Traefik image and has each proxy host's sidecar
// boot Traefik (a no-op when it already runs with the same settings).
func (s *Session) bootTraefik(ctx context.Context, sh *shipper, hosts []string) error {
	hosts = s.proxyHosts(hosts)
	if len(hosts) == 0 {
		return nil
	}
	img := s.TraefikImage()
	if err := s.shipIfLocal(ctx, sh, img, hosts); err != nil {
		return err
	}
	req := s.traefikRequest()
	var errs []error
	for _, h := range hosts {
		t0 := time.Now()
		cl, err := s.Sidecar(ctx, h)
		if err == nil {
			_, err = cl.BootTraefik(ctx, req)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("boot traefik on %s: %w", h, err))
			continue
		}
		s.Out.Step(h, "traefik "+img, "running", time.Since(t0))
	}
	return errors.Join(errs...)
}

// shipIfLocal ships an image the local engine has; hosts without it that
// the local engine lacks too are left to pull it themselves.
func (s *Session) shipIfLocal(ctx context.Context, sh *shipper, image string, hosts []string) error {
	if !localImageExists(ctx, s.G.DockerFlags, image) {
		s.Out.Verbose("%s is not in the local engine; hosts pull it themselves", image)
		return nil
	}
	return sh.shipTo(ctx, image, hosts)
}

// bootAccessories starts every accessory that is not running yet.
func (s *Session) bootAccessories(ctx context.Context, sh *shipper, names []string) error {
	var errs []error
	for _, name := range names {
		a := s.Cfg.Accessory(name)
		if a == nil {
			return fmt.Errorf("accessory %s is not in the config (accessories: %s)", name, strings.Join(s.accessoryNames(), ", "))
		}
		if err := s.shipIfLocal(ctx, sh, a.Image, a.Hosts); err != nil {
			errs = append(errs, err)
			continue
		}
		err := s.eachHost(ctx, a.Hosts, func(ctx context.Context, c *transport.Conn) error {
			t0 := time.Now()
			status, err := s.bootAccessory(ctx, c, a)
			if err != nil {
				return fmt.Errorf("boot accessory %s: %w", a.Name, err)
			}
			s.Out.Step(c.Host(), "accessory "+a.Name, status, time.Since(t0))
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Session) accessoryNames() []string {
	var n []string
	for _, a := range s.Cfg.Accessories {
		n = append(n, a.Name)
	}
	sort.Strings(n)
	return n
}

func localImageExists(ctx context.Context, dockerFlags []string, image string) bool {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return runLocal(ctx, append(append([]string{}, dockerFlags...), "image", "inspect", image)...) == nil
}

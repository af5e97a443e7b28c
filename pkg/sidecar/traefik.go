package sidecar

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dockerkamal/docker-kamal/pkg/atomicfile"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/procnet"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

// TraefikDynamicDir is the directory, under the sidecar's state dir, that
// the sidecar writes and Traefik watches. The sidecar container mounts the
// state dir at the same path as on the host, so it is also the host path
// Traefik's container mounts.
func TraefikDynamicDir(stateDir string) string { return filepath.Join(stateDir, "traefik", "dynamic") }

// traefikACMEDir holds ACME storage, beside the dynamic dir.
func traefikACMEDir(stateDir string) string { return filepath.Join(stateDir, "traefik", "acme") }

// newTraefik builds the host's swap.Router (pkg/traefik's Dynamic: dynamic
// config in the state dir, confirmed through Traefik's API on the kamal
// network) and the booter of the Traefik container.
func newTraefik(_ context.Context, cfg Config, dc *docker.Client) (*traefik.Dynamic, TraefikBooter, error) {
	dir := TraefikDynamicDir(cfg.StateDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create traefik config dir: %w", err)
	}
	api := traefik.Static{Network: cfg.Network}.APIURL()
	dynamic := &traefik.Dynamic{Dir: dir, API: api, Sockets: traefikSockets(dc)}
	booter := newTraefikBooter(dc, cfg.Network, func(req contract.TraefikRequest) (docker.ContainerSpec, error) {
		// Certificates are dynamic configuration: written on every boot
		// request, also when the container is kept.
		if err := writeCertificates(dir, req.Certificates); err != nil {
			return docker.ContainerSpec{}, err
		}
		// So are the accessories' routes.
		if err := traefik.WriteStaticRoutes(dir, req.RoutesService, req.Routes); err != nil {
			return docker.ContainerSpec{}, err
		}
		return traefikContainerSpec(cfg.StateDir, cfg.Network, req)
	})
	return dynamic, booter, nil
}

// traefikSockets reads the TCP sockets of the Traefik container's network
// namespace through /proc/<pid>/net (the sidecar runs with --pid host, see
// contract.RunArgs): what Drain counts. A Traefik that does not run holds
// no connection.
func traefikSockets(dc *docker.Client) func(context.Context) ([]procnet.Socket, error) {
	return func(ctx context.Context) ([]procnet.Socket, error) {
		c, err := dc.Inspect(ctx, TraefikContainer)
		if docker.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !c.Running() || c.Pid == 0 {
			return nil, nil
		}
		socks, err := procnet.Read(procnet.Root, c.Pid)
		if errors.Is(err, os.ErrNotExist) {
			// Traefik exited since the inspect: its connections went with it.
			return nil, nil
		}
		return socks, err
	}
}

// traefikContainerSpec maps a boot request onto pkg/traefik's static
// configuration: entrypoints, watched file provider on the sidecar's
// directory (50 ms throttle), the read-only API on an unpublished
// entrypoint, ACME, and the request's args, options, labels and env.
func traefikContainerSpec(stateDir, network string, req contract.TraefikRequest) (docker.ContainerSpec, error) {
	st := traefik.Static{
		Image: req.Image, Name: TraefikContainer, Network: network,
		DynamicDir: TraefikDynamicDir(stateDir),
		HTTPPort:   req.HTTPPort, HTTPSPort: req.HTTPSPort,
		Args: req.Args, Options: req.Options, Labels: req.Labels, Env: req.Env,
		Host: req.Host,
	}
	if a := req.ACME; a != nil {
		st.ACMEDir = traefikACMEDir(stateDir)
		if err := os.MkdirAll(st.ACMEDir, 0o700); err != nil {
			return docker.ContainerSpec{}, fmt.Errorf("create acme dir: %w", err)
		}
		if a.CACertificates != "" {
			// Written before the container is (re)created, so Traefik
			// finds it on start; public certificates, no keys.
			ca := filepath.Join(st.ACMEDir, traefik.ACMECAFile(*a))
			if err := atomicfile.WriteFile(ca, []byte(a.CACertificates), 0o644); err != nil {
				return docker.ContainerSpec{}, fmt.Errorf("write acme ca certificates: %w", err)
			}
		}
		st.ACME = []contract.ACME{*a}
	}
	return st.ContainerSpec()
}

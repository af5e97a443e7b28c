package sidecar

import (
	"context"
	"fmt"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// NewDeps connects to the engine and builds the real parts: the swap
// engine, probes, Traefik routing and boot. Close with the returned func.
func NewDeps(ctx context.Context, cfg Config) (Deps, func(), error) {
	cfg = withDefaults(cfg)
	dc, err := docker.New(ctx, cfg.DockerHost)
	if err != nil {
		return Deps{}, nil, fmt.Errorf("connect to docker: %w", err)
	}
	traefikRouter, proxy, err := newTraefik(ctx, cfg, dc)
	if err != nil {
		_ = dc.Close()
		return Deps{}, nil, err
	}
	// Every route goes through the maintenance wrapper, so a swap or a
	// reconcile never ends maintenance mode behind the user's back.
	router, err := newMaintenanceRouter(traefikRouter, cfg.StateDir, contract.SidecarContainerName,
		func(ctx context.Context, d *contract.Deploy, container string) ([]swap.Server, error) {
			ct, err := dc.Inspect(ctx, container)
			if err != nil {
				return nil, err
			}
			return []swap.Server{serverOf(d, ct)}, nil
		})
	if err != nil {
		_ = dc.Close()
		return Deps{}, nil, err
	}
	prober := swap.HealthProber{Docker: dc}
	engine := &swap.Engine{Docker: dc, Router: router, Prober: prober, Logger: cfg.Logger}
	deps := Deps{
		Swapper:     engineSwapper{e: engine},
		Containers:  dockerContainers{c: dc},
		Prober:      healthProber{c: dc, p: prober},
		Router:      swapRouter{c: dc, r: router},
		Images:      dockerImages{c: dc},
		Proxy:       proxy,
		Maintenance: router,
	}
	return deps, func() { _ = dc.Close() }, nil
}

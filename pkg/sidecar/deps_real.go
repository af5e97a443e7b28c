package sidecar

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/dockerkamal/docker-kamal/pkg/assets"
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
	closeDocker := func() {
		// Closing only drops idle connections; nothing is lost if it fails.
		_ = dc.Close()
	}
	dynamic, booter, err := newTraefik(ctx, cfg, dc)
	if err != nil {
		closeDocker()
		return Deps{}, nil, err
	}
	// Every route goes through the maintenance wrapper, so a swap or a
	// reconcile never ends maintenance mode behind the user's back.
	router, err := newMaintenanceRouter(dynamic, cfg.StateDir, contract.SidecarContainerName, dc)
	if err != nil {
		closeDocker()
		return Deps{}, nil, err
	}
	prober := swap.HealthProber{Docker: dc}
	// StateDir is the same path on the host (the sidecar's mount), so the
	// asset directories it writes are valid bind-mount sources.
	bridge := &assets.Bridge{Root: filepath.Join(cfg.StateDir, "assets"), Source: assets.DockerSource{Docker: dc}}
	warm, err := newWarmKeeper(cfg.StateDir, cfg.Logger)
	if err != nil {
		closeDocker()
		return Deps{}, nil, err
	}
	engine := &swap.Engine{Docker: dc, Router: router, Prober: prober, Assets: bridge, Warm: warm, Logger: cfg.Logger}
	deps := Deps{
		Swaps:       engine,
		Containers:  dc,
		Prober:      prober,
		Router:      router,
		Images:      dc,
		Traefik:     booter,
		Maintenance: router,
		warm:        warm,
	}
	return deps, closeDocker, nil
}

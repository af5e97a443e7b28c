package sidecar

import (
	"context"
	"io"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// Swaps runs blue/green swaps on this host; *swap.Engine implements it.
// Events carry pkg/swap's step names.
type Swaps interface {
	Deploy(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error)
	Rollback(ctx context.Context, role contract.Role, version string, emit func(contract.Event)) (*swap.Result, error)
	Versions(ctx context.Context, role contract.Role) ([]contract.Version, error)
	PrepareAssets(ctx context.Context, req contract.AssetsRequest) (*contract.AssetsResponse, error)
	// Prune applies d's retention to its role outside a swap; kept (a
	// container name, may be "") is never removed and counts as retained.
	Prune(ctx context.Context, d *contract.Deploy, kept string) ([]string, error)
}

// Containers starts, stops and inspects containers by name outside a swap
// (reconcile, stop and start, status); *docker.Client implements it. A
// missing container is an error matching docker.ErrNotFound.
type Containers interface {
	Inspect(ctx context.Context, name string) (docker.Container, error)
	Start(ctx context.Context, name string) error
	Stop(ctx context.Context, name string, timeout time.Duration) error
}

// Images takes in image archives; *docker.Client implements it.
type Images interface {
	ImageLoad(ctx context.Context, archive io.Reader) (string, error)
	ImageInspect(ctx context.Context, ref string) (docker.Image, error)
}

// TraefikBooter boots the host's Traefik container.
type TraefikBooter interface {
	Boot(ctx context.Context, req contract.TraefikRequest, reboot bool) (*contract.TraefikStatus, error)
}

// Deps are the parts a Server uses. Prober and Router are pkg/swap's, so
// reconcile probes and routes exactly as a swap does.
type Deps struct {
	Swaps      Swaps
	Containers Containers
	Prober     swap.Prober
	Router     swap.Router
	Images     Images
	Traefik    TraefikBooter
	// Maintenance is optional; without it the maintenance API answers
	// "unsupported". When it is also an http.Handler, Run serves it on
	// contract.MaintenancePort as the 503 page.
	Maintenance Maintenance
	// warm, when set, is the engine's WarmSet: Run stops the warm
	// containers when their windows end.
	warm *warmKeeper
}

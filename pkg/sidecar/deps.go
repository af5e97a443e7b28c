package sidecar

import (
	"context"
	"io"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// The sidecar's parts behind small interfaces, so the server, reconcile and
// status logic are unit-tested with fakes; Run wires the real ones (pkg/swap,
// pkg/docker, pkg/health, pkg/traefik).

// Swapper runs blue/green swaps on this host. Events use the step names
// below; errors that carry a failed step and logs are *contract.Error.
type Swapper interface {
	Deploy(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*contract.Result, error)
	Rollback(ctx context.Context, req contract.RollbackRequest, emit func(contract.Event)) (*contract.Result, error)
	Versions(ctx context.Context, r contract.Role) ([]contract.Version, error)
}

// Step names the sidecar journals and measures: pkg/swap's.
const (
	StepStartGreen  = swap.StepStartGreen
	StepWaitHealthy = swap.StepWaitHealthy
	StepCutover     = swap.StepCutover
	StepDrain       = swap.StepDrainBlue
	StepStopBlue    = swap.StepStopBlue
	StepRetain      = swap.StepPrune
)

// ContainerState is what reconcile and status need to know of a container.
type ContainerState struct {
	// Exists is false for a missing container.
	Exists bool
	// Running tells whether its process is up.
	Running bool
	// Health is docker's HEALTHCHECK status ("" without one).
	Health string
}

// Containers starts, stops and inspects containers by name.
type Containers interface {
	State(ctx context.Context, name string) (ContainerState, error)
	Start(ctx context.Context, name string) error
	Stop(ctx context.Context, name string, timeout time.Duration) error
	// Spec is the (redacted) spec the container was started with.
	Spec(ctx context.Context, name string) (*contract.Deploy, error)
}

// Prober checks a role's container against the spec's health check.
type Prober interface {
	// WaitHealthy polls until healthy, bounded by ctx and d.DeployTimeout.
	WaitHealthy(ctx context.Context, d *contract.Deploy, container string) error
	// Check probes once (a "running" check only needs the process up).
	Check(ctx context.Context, d *contract.Deploy, container string) error
}

// Router points Traefik at one container of a role and confirms through
// Traefik's API that it serves it. A role without a proxy is a no-op.
type Router interface {
	Route(ctx context.Context, d *contract.Deploy, container string) error
}

// Images lists and loads images on the host.
type Images interface {
	Inventory(ctx context.Context) ([]contract.Image, error)
	Load(ctx context.Context, archive io.Reader) (string, error)
	Has(ctx context.Context, id string) (bool, error)
}

// Proxy boots the host's Traefik container.
type Proxy interface {
	Boot(ctx context.Context, req contract.TraefikRequest, reboot bool) (*contract.TraefikStatus, error)
}

// Deps are the parts a Server uses.
type Deps struct {
	Swapper    Swapper
	Containers Containers
	Prober     Prober
	Router     Router
	Images     Images
	Proxy      Proxy
	// Maintenance is optional; without it the maintenance API answers
	// "unsupported". When it is also an http.Handler, Run serves it on
	// contract.MaintenancePort as the 503 page.
	Maintenance Maintenance
}

package swap

import (
	"context"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Docker is the engine calls the swap makes; *docker.Client implements it.
type Docker interface {
	ImageInspect(ctx context.Context, ref string) (docker.Image, error)
	Create(ctx context.Context, s docker.ContainerSpec) (string, error)
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, timeout time.Duration) error
	Rename(ctx context.Context, id, name string) error
	Remove(ctx context.Context, id string, force bool) error
	Inspect(ctx context.Context, id string) (docker.Container, error)
	List(ctx context.Context, labels map[string]string, all bool) ([]docker.Container, error)
	Logs(ctx context.Context, id string, tail int) (string, error)
}

// Server is one backend of a routed role.
type Server struct {
	// Container is the container's name (informative).
	Container string
	// Address is "ip:port" on the spec's network.
	Address string
}

// Router points a role's proxy service at a set of servers.
type Router interface {
	// Route makes servers the role's only backends (atomically).
	Route(ctx context.Context, d *contract.Deploy, servers []Server) error
	// Confirm returns once the proxy serves exactly servers, or ctx ends.
	Confirm(ctx context.Context, d *contract.Deploy, servers []Server) error
	// Drain returns once old has no requests in flight, or ctx ends
	// (bounded by the spec's drain timeout). An implementation that cannot
	// see in-flight requests returns nil at once.
	Drain(ctx context.Context, d *contract.Deploy, old []Server) error
	// Unroute removes the role's routing (a first deploy whose cutover
	// failed has nothing to fall back to).
	Unroute(ctx context.Context, d *contract.Deploy) error
}

// Prober decides whether a started container is ready.
type Prober interface {
	Ready(ctx context.Context, d *contract.Deploy, c docker.Container) error
}

// Journal records every step transition, for a restarted sidecar to
// reconcile. d is always redacted. Record errors are logged, not fatal.
type Journal interface {
	Record(step string, d *contract.Deploy, state map[string]string) error
}

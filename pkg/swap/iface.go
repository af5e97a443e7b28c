package swap

import (
	"context"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Docker is every engine call a swap makes, grouped by what it is for;
// *docker.Client implements it.
type Docker interface {
	ImageInspector
	ContainerReader
	ContainerStarter
	ContainerStopper
}

// ImageInspector checks the spec's image is on the host (check-image).
type ImageInspector interface {
	ImageInspect(ctx context.Context, ref string) (docker.Image, error)
}

// ContainerReader finds and reads the role's containers.
type ContainerReader interface {
	Inspect(ctx context.Context, id string) (docker.Container, error)
	List(ctx context.Context, labels map[string]string, all bool) ([]docker.Container, error)
	Logs(ctx context.Context, id string, tail int) (string, error)
}

// ContainerStarter puts green in place: rename-aside, start-green and
// start-retained.
type ContainerStarter interface {
	Rename(ctx context.Context, id, name string) error
	Create(ctx context.Context, s docker.ContainerSpec) (string, error)
	Start(ctx context.Context, id string) error
}

// ContainerStopper takes containers out: stop-blue, prune, and stopping a
// failed green.
type ContainerStopper interface {
	Stop(ctx context.Context, id string, timeout time.Duration) error
	Remove(ctx context.Context, id string, force bool) error
}

// Server is one backend of a routed role. It is persisted (the sidecar's
// maintenance state): never rename a field.
type Server struct {
	// Container is the container's name (informative).
	Container string
	// Address is "ip:port" on the spec's network.
	Address string
}

// Router points a role's proxy service at a set of servers: the one
// routing interface of the host side. pkg/traefik implements it.
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

// Prober decides whether a role's container passes the spec's health
// check: the one probing interface of the host side. HealthProber
// implements it.
type Prober interface {
	// Ready polls until c is healthy, bounded by ctx and the spec's
	// deploy timeout (wait-healthy).
	Ready(ctx context.Context, d *contract.Deploy, c docker.Container) error
	// Check probes once, bounded by ctx (status and reconcile).
	Check(ctx context.Context, d *contract.Deploy, c docker.Container) error
}

// Assets bridges a role's static assets across versions (prepare-assets,
// prune-assets); pkg/assets implements it.
type Assets interface {
	// Prepare readies d's asset directory with previous's assets merged
	// in (previous "" for none) and returns the directory to mount.
	Prepare(ctx context.Context, d *contract.Deploy, previous string) (string, error)
	// Prune removes the directories of every version of d's role but d's
	// and keep's (the versions of containers kept warm, which still mount
	// theirs: a rollback to one is a route switch, with no new mount).
	Prune(d *contract.Deploy, keep ...string) error
}

package swap

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/health"
)

// HealthProber is the default Prober: the spec's healthcheck run with
// pkg/health against the container's address on the spec's network.
type HealthProber struct {
	Docker interface {
		Inspect(ctx context.Context, id string) (docker.Container, error)
	}
	// OnAttempt, when set, sees every failed or passed attempt (metrics).
	OnAttempt func(d *contract.Deploy, attempt int, err error)
}

// Ready polls until c is healthy or the deploy timeout passes.
func (p HealthProber) Ready(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	h := d.Healthcheck
	state := func(ctx context.Context) (health.State, error) {
		ct, err := p.Docker.Inspect(ctx, c.ID)
		if err != nil {
			return health.State{}, err
		}
		return health.State{Running: ct.Running(), Status: ct.State, Health: ct.Health, StartedAt: ct.StartedAt, ExitCode: ct.ExitCode}, nil
	}
	host := address(d, c)
	deadline := d.DeployTimeout.D()
	var probe health.Probe
	switch h.Kind {
	case contract.HealthHTTP:
		probe = health.Alive{State: state, Probe: health.HTTP{
			URL:  "http://" + net.JoinHostPort(host, strconv.Itoa(h.Port)) + h.Path,
			Host: h.HostHeader,
		}}
	case contract.HealthTCP:
		probe = health.Alive{State: state, Probe: health.TCP{Addr: net.JoinHostPort(host, strconv.Itoa(h.Port))}}
	case contract.HealthDocker:
		probe = health.Docker{Container: c.Name, State: state}
	case contract.HealthRunning:
		probe = health.Running{Container: c.Name, State: state, Delay: h.ReadinessDelay.D()}
		if min := h.ReadinessDelay.D() + 2*h.Interval.D() + h.Timeout.D(); deadline < min {
			deadline = min
		}
	default:
		return fmt.Errorf("probe %s: unknown healthcheck kind %q", c.Name, h.Kind)
	}
	o := health.Options{Interval: h.Interval.D(), Timeout: h.Timeout.D(), Deadline: deadline}
	if p.OnAttempt != nil {
		o.OnAttempt = func(n int, err error) { p.OnAttempt(d, n, err) }
	}
	return health.Wait(ctx, probe, o)
}

// address is where the sidecar (on the same network) reaches c: its IP on
// the spec's network, or its name (Docker DNS) when the IP is unknown.
func address(d *contract.Deploy, c docker.Container) string {
	if ip := c.IPs[d.Network]; ip != "" {
		return ip
	}
	return c.Name
}

// ServerFor is c as a proxy backend of d's role: its address on d's network
// (see address) and the proxy's app port. Reconcile code that routes
// outside a swap should use it, so it routes exactly as the engine does.
func ServerFor(d *contract.Deploy, c docker.Container) Server {
	port := contract.DefaultAppPort
	if d.Proxy != nil && d.Proxy.AppPort != 0 {
		port = d.Proxy.AppPort
	}
	return Server{Container: c.Name, Address: net.JoinHostPort(address(d, c), strconv.Itoa(port))}
}

package swap

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/health"
)

// DefaultCheckTimeout bounds one Check when ctx has no deadline.
const DefaultCheckTimeout = 2 * time.Second

// HealthProber is the Prober: the spec's healthcheck run with pkg/health
// against the container's address on the spec's network.
type HealthProber struct {
	Docker interface {
		Inspect(ctx context.Context, id string) (docker.Container, error)
	}
	// OnAttempt, when set, sees every failed or passed attempt (metrics).
	OnAttempt func(d *contract.Deploy, attempt int, err error)
}

var _ Prober = HealthProber{}

// Ready polls until c is healthy or the deploy timeout passes.
func (p HealthProber) Ready(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	probe, deadline, err := p.probe(d, c)
	if err != nil {
		return err
	}
	h := d.Healthcheck
	o := health.Options{Interval: h.Interval.D(), Timeout: h.Timeout.D(), Deadline: deadline}
	if p.OnAttempt != nil {
		o.OnAttempt = func(n int, err error) { p.OnAttempt(d, n, err) }
	}
	return health.Wait(ctx, probe, o)
}

// Check probes c once: the probe's deadline is what is left of ctx (or
// DefaultCheckTimeout), and a "running" check passes as soon as the
// process is up.
func (p HealthProber) Check(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	if !c.Running() {
		return fmt.Errorf("%s is %s", c.Name, c.State)
	}
	if d.Healthcheck.Kind == contract.HealthRunning {
		return nil
	}
	once := *d
	once.DeployTimeout = contract.Duration(DefaultCheckTimeout)
	if dl, ok := ctx.Deadline(); ok {
		once.DeployTimeout = contract.Duration(time.Until(dl))
	}
	return p.Ready(ctx, &once, c)
}

// probe builds the health probe of d's healthcheck for c, and how long it
// may take.
func (p HealthProber) probe(d *contract.Deploy, c docker.Container) (health.Probe, time.Duration, error) {
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
	switch h.Kind {
	case contract.HealthHTTP:
		return health.Alive{State: state, Probe: health.HTTP{
			URL:  "http://" + net.JoinHostPort(host, strconv.Itoa(h.Port)) + h.Path,
			Host: h.HostHeader,
		}}, deadline, nil
	case contract.HealthTCP:
		return health.Alive{State: state, Probe: health.TCP{Addr: net.JoinHostPort(host, strconv.Itoa(h.Port))}}, deadline, nil
	case contract.HealthDocker:
		return health.Docker{Container: c.Name, State: state}, deadline, nil
	case contract.HealthRunning:
		if least := h.ReadinessDelay.D() + 2*h.Interval.D() + h.Timeout.D(); deadline < least {
			deadline = least
		}
		return health.Running{Container: c.Name, State: state, Delay: h.ReadinessDelay.D()}, deadline, nil
	default:
		return nil, 0, fmt.Errorf("probe %s: unknown healthcheck kind %q", c.Name, h.Kind)
	}
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
// (see address) and the proxy's app port. Code that routes outside a swap
// (reconcile, maintenance) uses it, so it routes exactly as the engine does.
func ServerFor(d *contract.Deploy, c docker.Container) Server {
	port := contract.DefaultAppPort
	if d.Proxy != nil && d.Proxy.AppPort != 0 {
		port = d.Proxy.AppPort
	}
	return Server{Container: c.Name, Address: net.JoinHostPort(address(d, c), strconv.Itoa(port))}
}

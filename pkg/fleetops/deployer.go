package fleetops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/dockerkamal/docker-kamal/pkg/build"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"
)

// sidecarDeployer is pkg/fleet's Deployer: it drives each host's sidecar.
type sidecarDeployer struct {
	s       *Session
	version string
	image   string
	imageID string
}

var _ fleet.ServingDeployer = (*sidecarDeployer)(nil)

func (d *sidecarDeployer) Deploy(ctx context.Context, t fleet.Target) error {
	return d.DeployServing(ctx, t, func() {})
}

// DeployServing deploys t and calls serving once it serves the new
// version: its cutover for a role behind the proxy, green healthy for the
// others (whose old container then stops).
func (d *sidecarDeployer) DeployServing(ctx context.Context, t fleet.Target, serving func()) error {
	wire, err := d.s.wireSpec(t, d.version, d.image, d.imageID)
	if err != nil {
		return err
	}
	c, err := d.s.sidecar(ctx, t.Host)
	if err != nil {
		return err
	}
	var cutover atomic.Bool
	progress := d.servingProgress(t, serving)
	res, err := c.Apply(ctx, wire, func(e contract.Event) {
		if e.Step == contract.StepCutover && e.Status == contract.EventDone {
			cutover.Store(true)
		}
		progress(e)
	})
	if err != nil && cutover.Load() {
		// Routed to green already: the fleet must count this host as
		// switched, whatever its sidecar says while the swap winds down.
		err = fmt.Errorf("%w: %w", fleet.ErrFailedAfterCutover, err)
	}
	if err != nil {
		return fmt.Errorf("deploy %s on %s: %w", t.Role, t.Host, err)
	}
	if res.Cutover > 0 {
		d.s.out.Verbose("[%s] %s cutover %s", t.Host, t.Role, res.Cutover.D().Round(time.Millisecond))
	}
	return nil
}

func (d *sidecarDeployer) Rollback(ctx context.Context, t fleet.Target, version string) error {
	return d.RollbackServing(ctx, t, version, func() {})
}

// RollbackServing rolls t back to version and calls serving once it serves
// it (see DeployServing).
func (d *sidecarDeployer) RollbackServing(ctx context.Context, t fleet.Target, version string, serving func()) error {
	c, err := d.s.sidecar(ctx, t.Host)
	if err != nil {
		return err
	}
	req := contract.RollbackRequest{Role: d.s.role(t.Role), Version: version, Who: performer()}
	var cutover atomic.Bool
	progress := d.servingProgress(t, serving)
	err = retryConflict(ctx, func() error {
		_, err := c.Rollback(ctx, req, func(e contract.Event) {
			if e.Step == contract.StepCutover && e.Status == contract.EventDone {
				cutover.Store(true)
			}
			progress(e)
		})
		return err
	})
	if err != nil && cutover.Load() {
		// As for a deploy: routed to the rollback's target already, so
		// the undo of a cancelled rollback must count this host as
		// switched while its sidecar still reports the version it left.
		err = fmt.Errorf("%w: %w", fleet.ErrFailedAfterCutover, err)
	}
	if err != nil {
		return fmt.Errorf("roll back %s on %s to %s: %w", t.Role, t.Host, version, err)
	}
	return nil
}

// conflictRetry is how often a rollback refused because the role is busy
// is tried again.
const conflictRetry = 250 * time.Millisecond

// sidecarBackWithin bounds how long a rollback waits for a host whose
// sidecar does not answer on its socket: one killed mid-swap is restarted
// by its restart policy within seconds, and the fleet's undo must not give
// up on that host at once (the chaos soak: a sidecar killed after its
// cutover left its host on the new version, ROLLBACK FAILED).
const sidecarBackWithin = 30 * time.Second

// retryConflict runs op again while the sidecar refuses it because another
// operation on the role is under way, until ctx ends. A deploy cancelled on
// a host (Ctrl-C) is still winding down there when the rollback comes: the
// sidecar ends its drain or stop on the cancel, then frees the role. The
// deploy lock keeps anyone else's operation out. While the host's sidecar
// socket refuses the connection (the sidecar restarting) op is tried again
// for up to sidecarBackWithin.
func retryConflict(ctx context.Context, op func() error) error {
	var downSince time.Time
	for {
		err := op()
		switch {
		case errors.Is(err, contract.ErrConflict):
		case sidecarDown(err):
			if downSince.IsZero() {
				downSince = time.Now()
			}
			if time.Since(downSince) > sidecarBackWithin {
				return err
			}
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(conflictRetry):
		}
	}
}

func (d *sidecarDeployer) LiveVersion(ctx context.Context, t fleet.Target) (string, error) {
	return d.s.liveVersion(ctx, t)
}

// servingProgress is progress that also calls serving when t serves the
// version it swaps to: the event that ends the swap's part every request
// depends on.
func (d *sidecarDeployer) servingProgress(t fleet.Target, serving func()) func(contract.Event) {
	progress := d.progress(t)
	mark := contract.StepWaitHealthy
	if r := d.s.Cfg.Role(t.Role); r != nil && r.Proxy != nil {
		mark = contract.StepCutover
	}
	return func(e contract.Event) {
		progress(e)
		if e.Step == mark && e.Status == contract.EventDone {
			serving()
		}
	}
}

func (d *sidecarDeployer) progress(t fleet.Target) func(contract.Event) {
	return func(e contract.Event) {
		switch e.Status {
		case contract.EventDone, contract.EventFail:
			d.s.out.Verbose("[%s] %s %s: %s (%s) %s", t.Host, t.Role, e.Step, e.Status, e.Elapsed.D().Round(time.Millisecond), e.Message)
		default:
			d.s.out.Verbose("[%s] %s %s: %s %s", t.Host, t.Role, e.Step, e.Status, e.Message)
		}
	}
}

// pinnedImageDeployer pins the image ID the sidecars must run, read once
// after the build.
type pinnedImageDeployer struct {
	*sidecarDeployer
	dockerFlags []string
	once        sync.Once
}

func (d *pinnedImageDeployer) Deploy(ctx context.Context, t fleet.Target) error {
	return d.DeployServing(ctx, t, func() {})
}

// DeployServing pins the image, then deploys as sidecarDeployer does.
func (d *pinnedImageDeployer) DeployServing(ctx context.Context, t fleet.Target, serving func()) error {
	d.once.Do(func() {
		flags := d.dockerFlags
		if f, err := d.s.appEngine(ctx); err == nil {
			flags = f // the engine that built it (a remote builder's)
		}
		if id, err := build.ImageID(ctx, flags, d.image); err == nil {
			d.imageID = id
		}
	})
	return d.sidecarDeployer.DeployServing(ctx, t, serving)
}

// liveVersion is the version the sidecar routes to for t ("" if none).
func (s *Session) liveVersion(ctx context.Context, t fleet.Target) (string, error) {
	c, err := s.sidecar(ctx, t.Host)
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, sidecarCallTimeout)
	defer cancel()
	// Settled: after a cancel, the version the host's swap left, not the
	// one its journal names while the swap winds down.
	vs, err := c.SettledVersions(cctx, s.role(t.Role))
	if err != nil {
		return "", fmt.Errorf("list versions of %s on %s: %w", t.Role, t.Host, err)
	}
	for _, v := range vs.Versions {
		if v.Live {
			return v.Version, nil
		}
	}
	return "", nil
}

// wireSpec is what a sidecar gets to deploy t: the config's spec of the
// role on the host, with its Traefik routing built here, with Traefik's own
// types, so the sidecar need not link them.
func (s *Session) wireSpec(t fleet.Target, version, image, imageID string) (*contract.Deploy, error) {
	d, err := s.Cfg.Deploy(t.Role, t.Host, version, image, imageID)
	if err != nil {
		return nil, err
	}
	if err := routes.Attach(d); err != nil {
		return nil, fmt.Errorf("role %s: %w", t.Role, err)
	}
	return d, nil
}

// checkRouting builds every target's routing before anything happens on a
// host, so bad traefik labels fail the command before the lock and build.
func (s *Session) checkRouting(plan fleet.Plan, version string) error {
	for _, t := range plan.Targets() {
		if _, err := s.wireSpec(t, version, s.imageRef(version), ""); err != nil {
			return err
		}
	}
	return nil
}

// reporter prints fleet progress lines.
type reporter struct{ s *Session }

func (r reporter) Event(t fleet.Target, phase, status string, d time.Duration, err error) {
	if err != nil {
		r.s.out.Error("  [%s] %s %s: %s: %v", t.Host, phase, t.Role, status, err)
		return
	}
	r.s.out.Step(t.Host, phase+" "+t.Role, status, d)
}

// sidecarDown reports whether err is the host's refusal to open the
// sidecar's socket: SSH works, the sidecar does not listen (restarting).
func sidecarDown(err error) bool {
	var oce *ssh.OpenChannelError
	return errors.As(err, &oce) && oce.Reason == ssh.ConnectionFailed
}

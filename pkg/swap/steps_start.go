package swap

import (
	"context"
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// The steps that put green in place and wait for it, before the proxy may
// route to it: a failure here leaves blue serving and untouched.

// checkImage: the spec's image is on the host, with the spec's ID if given.
type checkImage struct {
	image, id string
}

func (checkImage) Name() string      { return StepCheckImage }
func (checkImage) Container() string { return "" }

func (s checkImage) Format() string {
	if s.id == "" {
		return s.image
	}
	return s.image + " (" + s.id + ")"
}

func (s checkImage) Execute(ctx context.Context, r *run) error {
	img, err := r.e.Docker.ImageInspect(ctx, s.image)
	if docker.IsNotFound(err) {
		return fmt.Errorf("check image %s: %w", s.image, ErrImageMissing)
	}
	if err != nil {
		return err
	}
	if s.id != "" && img.ID != s.id {
		return fmt.Errorf("check image %s: host has %s, spec wants %s: %w", s.image, img.ID, s.id, ErrImageMismatch)
	}
	return nil
}

// renameAside frees green's name, held by a container of the same version
// (a redeploy), which keeps serving under its new name until stop-blue.
type renameAside struct {
	from docker.Container
	to   string
}

func (renameAside) Name() string        { return StepRenameAside }
func (s renameAside) Container() string { return s.from.Name }
func (s renameAside) Format() string    { return s.from.Name + " -> " + s.to }

func (s renameAside) Execute(ctx context.Context, r *run) error {
	return r.e.Docker.Rename(ctx, s.from.ID, s.to)
}

// startGreen creates and starts the new container from the spec.
type startGreen struct {
	green, network string
}

func (startGreen) Name() string        { return StepStartGreen }
func (s startGreen) Container() string { return s.green }
func (s startGreen) Format() string    { return fmt.Sprintf("%s on network %s", s.green, s.network) }

func (s startGreen) Execute(ctx context.Context, r *run) error {
	cs, err := containerSpec(r.d, r.assetsDir)
	if err != nil {
		return err
	}
	id, err := r.e.Docker.Create(ctx, cs)
	if err != nil {
		return err
	}
	r.green = docker.Container{ID: id, Name: cs.Name}
	r.res.ID = id
	return r.e.Docker.Start(ctx, id)
}

// startRetained starts a rollback's retained container again (or adopts it
// when it already runs).
type startRetained struct {
	retained docker.Container
}

func (startRetained) Name() string        { return StepStartRetained }
func (s startRetained) Container() string { return s.retained.Name }

func (s startRetained) Format() string {
	if serving(s.retained) {
		return s.retained.Name + " (already running)"
	}
	return s.retained.Name
}

func (s startRetained) Execute(ctx context.Context, r *run) error {
	r.green = s.retained
	r.res.ID = s.retained.ID
	if serving(s.retained) {
		// It ran before the rollback began: a failure leaves it as found.
		r.greenWasRunning = true
		return nil
	}
	return r.e.Docker.Start(ctx, s.retained.ID)
}

// waitHealthy polls green with the spec's health check. A warm green (a
// rollback target still running) gets one check first; readiness, when
// set, replaces the readiness delay of a "running" check.
type waitHealthy struct {
	green     string
	check     contract.Healthcheck
	timeout   contract.Duration
	warm      bool
	readiness contract.Duration
}

func (waitHealthy) Name() string        { return StepWaitHealthy }
func (s waitHealthy) Container() string { return s.green }

func (s waitHealthy) Format() string {
	h := s.check
	switch h.Kind {
	case contract.HealthHTTP:
		f := fmt.Sprintf("http GET :%d%s", h.Port, h.Path)
		if h.HostHeader != "" {
			f += " Host " + h.HostHeader
		}
		return f + fmt.Sprintf(" within %s", s.timeout.D())
	case contract.HealthTCP:
		return fmt.Sprintf("tcp :%d within %s", h.Port, s.timeout.D())
	case contract.HealthRunning:
		if s.readiness > 0 {
			return fmt.Sprintf("still running after %s (was live just before)", s.readiness.D())
		}
		return fmt.Sprintf("still running after %s", h.ReadinessDelay.D())
	default:
		return fmt.Sprintf("docker healthcheck within %s", s.timeout.D())
	}
}

func (s waitHealthy) Execute(ctx context.Context, r *run) error {
	started := time.Now()
	c, err := r.e.Docker.Inspect(ctx, r.green.ID)
	if err != nil {
		return err
	}
	r.green = c
	if !s.warm || !r.e.checkOnce(ctx, r.d, c) {
		d := r.d
		if s.readiness > 0 {
			quick := *r.d
			quick.Healthcheck.ReadinessDelay = s.readiness
			d = &quick
		}
		if err := r.e.prober().Ready(ctx, d, c); err != nil {
			return err
		}
	}
	r.healthyAt = time.Now()
	r.res.Healthy = r.healthyAt.Sub(started)
	return nil
}

// checkOnce probes a warm container once, bounded by WarmCheckTimeout.
func (e *Engine) checkOnce(ctx context.Context, d *contract.Deploy, c docker.Container) bool {
	cctx, cancel := context.WithTimeout(ctx, WarmCheckTimeout)
	defer cancel()
	err := e.prober().Check(cctx, d, c)
	if err != nil {
		e.logger().Info("warm container failed its check; waiting for it", "container", c.Name, "err", err)
	}
	return err == nil
}

package swap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Tunables of warm containers and quick checks.
const (
	// WarmCheckTimeout bounds the one health check of a warm rollback
	// target before it gets the full wait-healthy.
	WarmCheckTimeout = 2 * time.Second
	// ProvenReadiness replaces the readiness delay of a role without a
	// proxy when the rollback target is the container that was live just
	// before (see provenRetained).
	ProvenReadiness = time.Second
)

// WarmSet remembers the containers kept running out of rotation after a
// swap (the spec's KeepWarm) and stops each one when its window ends. The
// sidecar implements it, persisted, so the windows survive its restart.
type WarmSet interface {
	// Warm names the role's containers kept warm now.
	Warm(role contract.Role) []string
	// Keep records container as warm until the given time; stopTimeout is
	// the docker stop timeout to stop it with then.
	Keep(role contract.Role, container string, until time.Time, stopTimeout time.Duration) error
	// Drop forgets container (it serves again, or was stopped).
	Drop(role contract.Role, container string) error
	// Live names the container the role's proxy routed to after the last
	// swap, "" when unknown: the one to keep warm when a swap cut short
	// after its cutover left more than one running.
	Live(role contract.Role) string
}

// warmNames is what e.Warm says of the role ("" set when there is none).
func (e *Engine) warmNames(role contract.Role) []string {
	if e.Warm == nil {
		return nil
	}
	return e.Warm.Warm(role)
}

// splitWarm parts blue into the containers kept warm now and the rest (the
// one the proxy routes to).
func splitWarm(blue []docker.Container, warm []string) (live, warmBlue []docker.Container) {
	for _, c := range blue {
		if slices.Contains(warm, c.Name) {
			warmBlue = append(warmBlue, c)
		} else {
			live = append(live, c)
		}
	}
	return live, warmBlue
}

// keepWarm leaves the container green replaced running, out of rotation,
// for the spec's KeepWarm, and takes green out of the warm set (a rollback
// to a warm container). Containers that were warm already are stopped by
// the stop-blue step that follows.
type keepWarm struct {
	keep []docker.Container
	// green is the container that now serves.
	green string
	for_  contract.Duration
}

func (keepWarm) Name() string        { return StepKeepWarm }
func (s keepWarm) Container() string { return containerNames(s.keep) }

func (s keepWarm) Format() string {
	if len(s.keep) == 0 {
		return s.green + " leaves the warm set"
	}
	return fmt.Sprintf("%s running out of rotation for %s", containerNames(s.keep), s.for_.D())
}

func (s keepWarm) Execute(ctx context.Context, r *run) error {
	if r.e.Warm == nil {
		return r.e.stopAll(ctx, s.keep, r.d.StopTimeout)
	}
	role := roleOf(r.d)
	if err := r.e.Warm.Drop(role, s.green); err != nil {
		return fmt.Errorf("keep warm: %w", err)
	}
	until := time.Now().Add(s.for_.D())
	var kept []string
	for _, c := range s.keep {
		// By its name now: a redeploy renamed it aside.
		if cur, err := r.e.Docker.Inspect(ctx, c.ID); err == nil {
			c = cur
		} else if docker.IsNotFound(err) {
			continue
		}
		if err := r.e.Warm.Keep(role, c.Name, until, r.d.StopTimeout.D()); err != nil {
			// Not remembered, so nothing would stop it: stop it now.
			return fmt.Errorf("keep %s warm: %w", c.Name, errors.Join(err, r.e.stopAll(ctx, []docker.Container{c}, r.d.StopTimeout)))
		}
		kept = append(kept, c.Name)
		r.warmVersions = append(r.warmVersions, c.Labels[contract.LabelVersion])
	}
	return r.e.dropWarmBut(ctx, r.d, append(kept, s.green))
}

// dropWarmBut stops every warm container of d's role but keep and forgets
// it: at most one container is warm, the one that went warm last.
func (e *Engine) dropWarmBut(ctx context.Context, d *contract.Deploy, keep []string) error {
	role := roleOf(d)
	var errs []error
	for _, name := range e.Warm.Warm(role) {
		if slices.Contains(keep, name) {
			continue
		}
		c, err := e.Docker.Inspect(ctx, name)
		switch {
		case err == nil && serving(c):
			if err := e.stopAll(ctx, []docker.Container{c}, d.StopTimeout); err != nil {
				errs = append(errs, fmt.Errorf("stop warm %s: %w", name, err))
				continue
			}
		case err != nil && !docker.IsNotFound(err):
			errs = append(errs, fmt.Errorf("inspect warm %s: %w", name, err))
			continue
		}
		if err := e.Warm.Drop(role, name); err != nil {
			errs = append(errs, fmt.Errorf("forget warm %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// provenRetained reports whether target, a stopped container of a role
// without a proxy, was the one live just before: the most recently stopped
// of the role, it ran at least its readiness delay, and the container that
// serves now was already running when target stopped (a swap replaced it:
// green starts, then blue stops; a container that crashed is not replaced
// that way). That holds for a rollback to the version before and for a
// roll forward again after it. Such a container already passed this very
// check with this very spec, so a rollback to it needs only
// ProvenReadiness to catch a start that fails at once.
func provenRetained(cs []docker.Container, target docker.Container, d *contract.Deploy) bool {
	if d.Proxy != nil || d.Healthcheck.Kind != contract.HealthRunning || serving(target) {
		return false
	}
	if target.StartedAt.IsZero() || target.FinishedAt.Sub(target.StartedAt) < d.Healthcheck.ReadinessDelay.D() {
		return false
	}
	replaced := false
	for _, c := range cs {
		if c.ID == target.ID {
			continue
		}
		if serving(c) {
			replaced = replaced || (!c.StartedAt.IsZero() && c.StartedAt.Before(target.FinishedAt))
			continue
		}
		if c.FinishedAt.After(target.FinishedAt) {
			return false
		}
	}
	return replaced
}

// stopAll stops cs with the stop timeout; a container gone already is no
// failure.
func (e *Engine) stopAll(ctx context.Context, cs []docker.Container, timeout contract.Duration) error {
	var errs []error
	for _, c := range cs {
		sctx, cancel := context.WithTimeout(ctx, timeout.D()+stopGrace)
		err := e.Docker.Stop(sctx, c.ID, timeout.D())
		cancel()
		if err != nil && !docker.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// warmCount is how many of cs (but protect) are warm now: they count as
// retained containers.
func warmCount(cs []docker.Container, warm []string, protect string) int {
	n := 0
	for _, c := range cs {
		if c.ID != protect && serving(c) && slices.Contains(warm, c.Name) {
			n++
		}
	}
	return n
}

// lastRouted splits cs into the container to keep warm (a slice of at
// most one) and the others: the one named live (the proxy routed to it
// after the last swap; a rollback's target is older than what it replaced),
// else the newest created.
func lastRouted(cs []docker.Container, live string) (keep, others []docker.Container) {
	if len(cs) < 2 {
		return cs, nil
	}
	best := 0
	for i, c := range cs {
		if c.Name == live {
			best = i
			break
		}
		if c.Created.After(cs[best].Created) {
			best = i
		}
	}
	for i, c := range cs {
		if i != best {
			others = append(others, c)
		}
	}
	return []docker.Container{cs[best]}, others
}

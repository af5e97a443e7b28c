package swap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// The steps that switch the role to green: from cutover on the proxy may
// route to green, so a failure of a later step is a warning (green serves)
// and a cancelled ctx stops nothing.

// cutover points the proxy at green alone and waits until it serves it.
type cutover struct {
	green string
	proxy *contract.Proxy
}

func (cutover) Name() string        { return StepCutover }
func (s cutover) Container() string { return s.green }
func (s cutover) Format() string    { return "route " + routeDetail(s.proxy) + " to " + s.green }

func (s cutover) Execute(ctx context.Context, r *run) error {
	servers := []Server{ServerFor(r.d, r.green)}
	// From the Route call on, the proxy may serve green. A cancel cuts
	// neither the call nor the confirmation short: a cancelled swap leaves
	// the route as it is, so it must be green's for sure, not maybe (the
	// sidecar then journals green as live), and the swap ends only once
	// the proxy serves it: Traefik applies a route file up to seconds
	// later, and until then the host would still answer with blue, then
	// switch by itself with nobody watching.
	r.routed = true
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer rcancel()
	if err := r.e.Router.Route(rctx, r.d, servers); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.e.confirmTimeout())
	defer cancel()
	if err := r.e.Router.Confirm(cctx, r.d, servers); err != nil {
		return fmt.Errorf("confirm cutover to %s: %w", servers[0].Address, err)
	}
	r.res.Cutover = time.Since(r.healthyAt)
	return nil
}

// drainBlue waits until blue has no requests in flight, bounded by the
// drain timeout.
type drainBlue struct {
	blue    []docker.Container
	timeout contract.Duration
}

func (drainBlue) Name() string        { return StepDrainBlue }
func (s drainBlue) Container() string { return containerNames(s.blue) }

func (s drainBlue) Format() string {
	return fmt.Sprintf("%s within %s", containerNames(s.blue), s.timeout.D())
}

func (s drainBlue) Execute(ctx context.Context, r *run) error {
	dctx, cancel := context.WithTimeout(ctx, s.timeout.D())
	defer cancel()
	err := r.e.Router.Drain(dctx, r.d, servers(r.d, s.blue))
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		// A drain that outlasts its timeout still proceeds to stop blue.
		return fmt.Errorf("drain %s: in-flight requests remain after %s: %w", containerNames(s.blue), s.timeout.D(), err)
	}
	return err
}

// stopBlue stops the containers green replaced (kept for rollback).
type stopBlue struct {
	blue    []docker.Container
	timeout contract.Duration
}

func (stopBlue) Name() string        { return StepStopBlue }
func (s stopBlue) Container() string { return containerNames(s.blue) }

func (s stopBlue) Format() string {
	return fmt.Sprintf("%s with stop timeout %s", containerNames(s.blue), s.timeout.D())
}

func (s stopBlue) Execute(ctx context.Context, r *run) error {
	if err := r.e.stopAll(ctx, s.blue, s.timeout); err != nil {
		return err
	}
	if r.e.Warm != nil {
		// A container warm before this swap is stopped now, so forgotten.
		var errs []error
		for _, c := range s.blue {
			errs = append(errs, r.e.Warm.Drop(roleOf(r.d), c.Name))
		}
		return errors.Join(errs...)
	}
	return nil
}

// prune removes the role's stopped containers beyond the newest keep. It
// never removes green; with countGreen (after a failed deploy) a stopped,
// kept green counts as one of the keep, and warm containers always do.
type prune struct {
	keep       int
	countGreen bool
}

func (prune) Name() string      { return StepPrune }
func (prune) Container() string { return "" }
func (s prune) Format() string  { return fmt.Sprintf("keep newest %d stopped", s.keep) }

func (s prune) Execute(ctx context.Context, r *run) error {
	pruned, err := r.e.pruneRole(ctx, roleOf(r.d), s.keep, r.green.ID, s.countGreen)
	r.res.Pruned = append(r.res.Pruned, pruned...)
	return err
}

// pruneRole removes the role's stopped containers beyond the newest keep
// (warm ones count as retained), never protect (an ID); with countProtected
// a stopped protect counts as one of the kept. It returns the names removed.
func (e *Engine) pruneRole(ctx context.Context, role contract.Role, keep int, protect string, countProtected bool) ([]string, error) {
	cs, err := e.roleContainers(ctx, role)
	if err != nil {
		return nil, err
	}
	cs, err = e.inspectAll(ctx, cs)
	if err != nil {
		return nil, err
	}
	keep = max(keep-warmCount(cs, e.warmNames(role), protect), 0)
	if countProtected && protect != "" {
		for _, c := range cs {
			if c.ID == protect && !serving(c) && keep > 0 {
				keep-- // the kept container is one of the retained
			}
		}
	}
	var pruned []string
	var errs []error
	for _, c := range PruneCandidates(cs, keep, protect) {
		if err := e.Docker.Remove(ctx, c.ID, false); err != nil && !docker.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("prune %s: %w", c.Name, err))
			continue
		}
		pruned = append(pruned, c.Name)
	}
	return pruned, errors.Join(errs...)
}

// Prune applies d's retention to d's role outside a swap (the sidecar's
// start-up reconcile, after it settled a swap it was killed in): stopped
// containers beyond d's RetainContainers are removed, warm ones counting as
// retained. kept, when named, is a container never removed and, when
// stopped, counted as one of the retained (the green of an undone swap,
// kept for its logs). It returns the names removed.
func (e *Engine) Prune(ctx context.Context, d *contract.Deploy, kept string) ([]string, error) {
	if d == nil {
		return nil, errors.New("prune: no spec")
	}
	spec := *d
	spec.ApplyDefaults()
	d = &spec
	release, err := e.acquire(roleOf(d))
	if err != nil {
		return nil, err
	}
	defer release()
	protect := ""
	if kept != "" {
		c, err := e.Docker.Inspect(ctx, kept)
		switch {
		case err == nil:
			protect = c.ID
		case !docker.IsNotFound(err):
			return nil, fmt.Errorf("prune: inspect %s: %w", kept, err)
		}
	}
	pruned, err := e.pruneRole(ctx, roleOf(d), d.RetainContainers, protect, true)
	if err != nil {
		return pruned, fmt.Errorf("prune %s: %w", roleKey(roleOf(d)), err)
	}
	return pruned, nil
}

// servers are cs as backends of d's role.
func servers(d *contract.Deploy, cs []docker.Container) []Server {
	out := make([]Server, len(cs))
	for i, c := range cs {
		out[i] = ServerFor(d, c)
	}
	return out
}

func containerNames(cs []docker.Container) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func routeDetail(px *contract.Proxy) string {
	switch {
	case len(px.TraefikLabels) > 0:
		return "traefik labels"
	case px.Rule != "":
		return px.Rule
	case len(px.Hosts) > 0:
		return strings.Join(px.Hosts, ",") + px.PathPrefix
	case px.PathPrefix != "":
		return px.PathPrefix
	default:
		return "all requests"
	}
}

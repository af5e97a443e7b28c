package fleetcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"
)

// swapper drives each host's sidecar for pkg/fleet.
type swapper struct {
	s       *Session
	version string
	image   string
	imageID string
}

func (w *swapper) Deploy(ctx context.Context, t fleet.Target) error {
	d, err := w.s.wireSpec(t, w.version, w.image, w.imageID)
	if err != nil {
		return err
	}
	c, err := w.s.Sidecar(ctx, t.Host)
	if err != nil {
		return err
	}
	res, err := c.Apply(ctx, d, w.progress(t))
	if err != nil {
		return fmt.Errorf("deploy %s on %s: %w", t.Role, t.Host, err)
	}
	if res.Cutover > 0 {
		w.s.Out.Verbose("[%s] %s cutover %s", t.Host, t.Role, res.Cutover.D().Round(time.Millisecond))
	}
	return nil
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
		if _, err := s.wireSpec(t, version, s.ImageRef(version), ""); err != nil {
			return err
		}
	}
	return nil
}

func (w *swapper) Rollback(ctx context.Context, t fleet.Target, version string) error {
	c, err := w.s.Sidecar(ctx, t.Host)
	if err != nil {
		return err
	}
	_, err = c.Rollback(ctx, contract.RollbackRequest{Role: w.s.Role(t.Role), Version: version, Who: Performer()}, w.progress(t))
	if err != nil {
		return fmt.Errorf("roll back %s on %s to %s: %w", t.Role, t.Host, version, err)
	}
	return nil
}

func (w *swapper) LiveVersion(ctx context.Context, t fleet.Target) (string, error) {
	c, err := w.s.Sidecar(ctx, t.Host)
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, sidecarCallTimeout)
	defer cancel()
	vs, err := c.Versions(cctx, w.s.Role(t.Role))
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

func (w *swapper) progress(t fleet.Target) func(contract.Event) {
	return func(e contract.Event) {
		switch e.Status {
		case contract.EventDone, contract.EventFail:
			w.s.Out.Verbose("[%s] %s %s: %s (%s) %s", t.Host, t.Role, e.Step, e.Status, e.Elapsed.D().Round(time.Millisecond), e.Message)
		default:
			w.s.Out.Verbose("[%s] %s %s: %s %s", t.Host, t.Role, e.Step, e.Status, e.Message)
		}
	}
}

// reporter prints fleet progress lines.
type reporter struct{ s *Session }

func (r reporter) Event(t fleet.Target, phase, status string, d time.Duration, err error) {
	if err != nil {
		r.s.Out.Error("  [%s] %s %s: %s: %v", t.Host, phase, t.Role, status, err)
		return
	}
	r.s.Out.Step(t.Host, phase+" "+t.Role, status, d)
}

// targets lists the selected (host, role) pairs in config order and the
// primary target.
func (s *Session) targets() ([]fleet.Target, fleet.Target, error) {
	sel, err := s.Cfg.Select(s.filter())
	if err != nil {
		return nil, fleet.Target{}, err
	}
	var ts []fleet.Target
	var primary fleet.Target
	for _, r := range sel.Roles {
		for _, h := range sel.Hosts[r.Name] {
			t := fleet.Target{Host: h, Role: r.Name}
			if r.Name == s.Cfg.PrimaryRole && h == s.PrimaryHost() {
				primary = t
			}
			ts = append(ts, t)
		}
	}
	return ts, primary, nil
}

func (s *Session) plan() (fleet.Plan, error) {
	ts, primary, err := s.targets()
	if err != nil {
		return fleet.Plan{}, err
	}
	var hosts []string
	seen := map[string]bool{}
	for _, t := range ts {
		if !seen[t.Host] {
			seen[t.Host] = true
			hosts = append(hosts, t.Host)
		}
	}
	return fleet.NewPlan(fleet.PlanOptions{
		Targets:       ts,
		Primary:       primary,
		Limit:         s.Cfg.Boot.BatchSize(len(hosts)),
		ParallelRoles: s.Cfg.Boot.ParallelRoles,
	}), nil
}

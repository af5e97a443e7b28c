package fleetops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/deploy"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Phases a deploy can lose a host in, as HostLostError names them.
const (
	phasePrepare = "prepare"
	phaseShip    = "ship"
	phaseMigrate = "migrate"
	phaseSwap    = "swap"
)

// HostLostError: a host stopped answering mid-deploy. It names the host
// and the phase, and says what the other hosts serve, so the user knows
// the fleet is still up.
type HostLostError struct {
	Host  string
	Phase string
	// Others are the hosts still reachable, and Serving what they serve
	// ("" when they differ: the per-host lines of the summary say).
	Others  []string
	Serving string
	// Untouched is true when no target had begun to swap.
	Untouched bool
	Err       error
}

func (e *HostLostError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "host %s was lost during %s: %v", e.Host, e.Phase, e.Err)
	switch {
	case len(e.Others) == 0:
	case e.Serving != "":
		fmt.Fprintf(&b, "; the other hosts (%s) still serve %s", strings.Join(e.Others, ", "), e.Serving)
	case e.Untouched:
		fmt.Fprintf(&b, "; nothing was swapped: the other hosts (%s) still serve the version they served before", strings.Join(e.Others, ", "))
	}
	return b.String()
}

func (e *HostLostError) Unwrap() error { return e.Err }

// phaseError tags an error with the deploy phase it came from.
type phaseError struct {
	phase string
	err   error
}

func (e *phaseError) Error() string { return e.err.Error() }
func (e *phaseError) Unwrap() error { return e.err }

func tagPhase(phase string, err error) error {
	if err == nil {
		return nil
	}
	return &phaseError{phase: phase, err: err}
}

// phaseShipper tags its shipper's errors with phaseShip.
type phaseShipper struct{ deploy.Shipper }

func (p phaseShipper) Ship(ctx context.Context, image string) error {
	return tagPhase(phaseShip, p.Shipper.Ship(ctx, image))
}

// phaseMigrator tags its migrator's errors with phaseMigrate.
type phaseMigrator struct{ deploy.Migrator }

func (p phaseMigrator) Migrate(ctx context.Context, image, version string) error {
	return tagPhase(phaseMigrate, p.Migrator.Migrate(ctx, image, version))
}

// describeLost turns a deploy error caused by a lost host into a
// *HostLostError; other errors pass unchanged. rep is the fleet's report
// (nil when the swap had not begun).
func describeLost(err error, hosts []string, rep *fleet.Report, version string) error {
	var lost *transport.LostError
	if !errors.As(err, &lost) {
		return err
	}
	e := &HostLostError{Host: lost.Host, Phase: phasePrepare, Err: err}
	var pe *phaseError
	if errors.As(err, &pe) {
		e.Phase = pe.phase
	}
	if rep != nil { // the fleet's swap phase had begun
		e.Phase = phaseSwap
	}
	e.Untouched = rep == nil || !anyStarted(rep)
	for _, h := range hosts {
		if h != lost.Host {
			e.Others = append(e.Others, h)
		}
	}
	if e.Phase == phaseSwap {
		e.Serving = othersServe(rep, lost.Host, version)
	}
	return e
}

// othersServe is the one version every target off host serves after the
// swap phase, or "" when they differ or one is unknown.
func othersServe(rep *fleet.Report, host, version string) string {
	var vs []string
	for _, o := range rep.Outcomes {
		if o.Target.Host == host {
			continue
		}
		v := serves(o, version)
		if o.Status == fleet.StatusRollbackFailed || (o.Previous == "" && v != version) {
			return ""
		}
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	if len(vs) != 1 {
		return ""
	}
	return vs[0]
}

// anyStarted reports whether some target of rep began its swap.
func anyStarted(rep *fleet.Report) bool {
	for _, o := range rep.Outcomes {
		if o.Status != fleet.StatusNotStarted {
			return true
		}
	}
	return false
}

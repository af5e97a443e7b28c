package health

import (
	"context"
	"fmt"
	"time"
)

// State is the part of a container's state the container probes read.
type State struct {
	// Running is true while the process is up.
	Running bool
	// Status is the engine's state word ("running", "exited", ...).
	Status string
	// Health is the HEALTHCHECK status: "" (none), "starting", "healthy",
	// "unhealthy".
	Health    string
	StartedAt time.Time
	ExitCode  int
}

// StateFunc reads a container's current state (docker inspect).
type StateFunc func(ctx context.Context) (State, error)

func notRunning(s State) error {
	return Permanent(fmt.Errorf("container is %s (exit code %d)", s.Status, s.ExitCode))
}

// Docker is healthy when the container's own HEALTHCHECK says "healthy".
type Docker struct {
	Container string
	State     StateFunc
}

func (p Docker) String() string { return "docker healthcheck of " + p.Container }

// Check reads the health status once.
func (p Docker) Check(ctx context.Context) error {
	s, err := p.State(ctx)
	if err != nil {
		return err
	}
	if !s.Running {
		return notRunning(s)
	}
	switch s.Health {
	case "healthy":
		return nil
	case "":
		return Permanent(fmt.Errorf("container has no HEALTHCHECK"))
	default:
		return fmt.Errorf("health status %s", s.Health)
	}
}

// Running is healthy once the container has stayed up for Delay (the
// readiness delay of roles without a proxy).
type Running struct {
	Container string
	State     StateFunc
	Delay     time.Duration
	// Now overrides the clock (tests).
	Now func() time.Time
}

func (p Running) String() string {
	return fmt.Sprintf("%s running for %s", p.Container, p.Delay)
}

// Check reads the state once.
func (p Running) Check(ctx context.Context) error {
	s, err := p.State(ctx)
	if err != nil {
		return err
	}
	if !s.Running {
		return notRunning(s)
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	if up := now().Sub(s.StartedAt); up < p.Delay {
		return fmt.Errorf("up for %s of %s", up.Round(time.Millisecond), p.Delay)
	}
	return nil
}

// Alive runs Probe only while the container is running, so a crashed
// container fails the wait at once instead of at the deadline.
type Alive struct {
	State StateFunc
	Probe Probe
}

func (p Alive) String() string { return describe(p.Probe) }

// Check reads the state, then runs the probe.
func (p Alive) Check(ctx context.Context) error {
	s, err := p.State(ctx)
	if err != nil {
		return err
	}
	if !s.Running {
		return notRunning(s)
	}
	return p.Probe.Check(ctx)
}

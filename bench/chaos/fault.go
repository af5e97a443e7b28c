package chaos

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// injection is a fault as it was injected.
type injection struct {
	fault Fault
	host  *harness.Host
	// at is when the fault came (zero for none); landed whether the
	// command still ran then.
	at     time.Time
	landed bool
	// healed is when the fault's own recovery action returned (a
	// partition's is Reconnect, in heal).
	healed time.Time
	err    error
	done   chan struct{}
}

// inject waits c.At of expected, then injects c's fault, in the background.
func (s *soak) inject(ctx context.Context, c Cycle, cmd *command, expected time.Duration) *injection {
	inj := &injection{fault: c.Fault, done: make(chan struct{})}
	if c.Fault.Targeted() {
		inj.host = s.f.Hosts[c.Host]
	}
	if c.Fault == FaultNone {
		close(inj.done)
		return inj
	}
	go func() {
		defer close(inj.done)
		select {
		case <-ctx.Done():
			inj.err = ctx.Err()
			return
		case <-time.After(time.Duration(c.At * float64(expected))):
		}
		inj.at, inj.landed = time.Now(), cmd.running()
		inj.err = inj.apply(ctx, cmd)
		if inj.err == nil {
			inj.healed = time.Now()
		}
	}()
	return inj
}

// apply does the fault. Host faults that heal on their own (dockerd
// restart, reboot) return once the host is back.
func (inj *injection) apply(ctx context.Context, cmd *command) error {
	h := inj.host
	switch inj.fault {
	case FaultPartition:
		return h.Disconnect(ctx)
	case FaultDockerd:
		return h.RestartDockerd(ctx)
	case FaultReboot:
		return h.Restart(ctx)
	case FaultTraefik:
		return killAndWaitRestart(ctx, h, "traefik")
	case FaultSidecar:
		return h.KillProcess(ctx, "kamal-sidecar", "KILL")
	case FaultPluginKill:
		if !inj.landed {
			return nil
		}
		if err := cmd.killPlugin(); err != nil && cmd.running() {
			return err
		}
		return nil
	case FaultInterrupt:
		if !inj.landed {
			return nil
		}
		if err := cmd.signal(syscall.SIGINT); err != nil && cmd.running() {
			return err
		}
		return nil
	}
	return fmt.Errorf("unknown fault %q", inj.fault)
}

// heal waits for the injection and undoes what does not heal on its own.
func (s *soak) heal(ctx context.Context, inj *injection) error {
	select {
	case <-inj.done:
	case <-time.After(3 * time.Minute):
		return fmt.Errorf("%w: fault %s still being injected after 3 minutes", errHarness, inj.fault)
	}
	if inj.err != nil {
		return fmt.Errorf("%w: inject %s: %w", errHarness, inj.fault, inj.err)
	}
	if inj.fault != FaultPartition {
		return nil
	}
	if err := inj.host.Reconnect(ctx); err != nil {
		return fmt.Errorf("%w: heal: %w", errHarness, err)
	}
	if err := inj.host.WaitReady(ctx); err != nil {
		return fmt.Errorf("%w: heal: %w", errHarness, err)
	}
	inj.healed = time.Now()
	return nil
}

// noteFault records when the fault came and, for a partition during the
// command, how long the command took to say the host was lost.
func (s *soak) noteFault(r *CycleRun, cmd *command, inj *injection) {
	if inj.at.IsZero() {
		return
	}
	r.FaultAt, r.Landed = inj.at.Sub(cmd.Start).Seconds(), inj.landed
	if inj.fault != FaultPartition || !inj.landed {
		return
	}
	if at, ok := cmd.firstAfter(inj.at, "connection lost", "was lost during"); ok {
		r.Detect = at.Sub(inj.at).Seconds()
		if r.Detect > 10 {
			r.violate("partition of %s detected after %.1fs, want within 10 s", inj.host.Name, r.Detect)
		}
	} else if cmd.Exit != 0 && cmd.End.Sub(inj.at) > 10*time.Second {
		r.violate("partition of %s during the command: never reported as lost (the command ended %.1fs later)", inj.host.Name, cmd.End.Sub(inj.at).Seconds())
	}
}

// killAndWaitRestart kills the process name on h with SIGKILL and waits
// until its restart policy has started a new one: until then the host is
// down (a killed process may still answer for a moment, and a new Traefik
// answers 404 until it has read its routes, so only the first request
// served after this counts as the host being back).
func killAndWaitRestart(ctx context.Context, h *harness.Host, name string) error {
	old, err := h.Exec(ctx, "pgrep", "-x", name)
	if err != nil {
		return fmt.Errorf("find %s on %s: %w", name, h.Name, err)
	}
	if err := h.KillProcess(ctx, name, "KILL"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		pid, err := h.Exec(ctx, "pgrep", "-x", name)
		if err == nil && strings.TrimSpace(pid) != "" && strings.TrimSpace(pid) != strings.TrimSpace(old) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s on %s not restarted after a kill: %w", name, h.Name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

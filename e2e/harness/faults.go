package harness

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Fault controls. Each acts on the host container (from the machine) or
// inside it, and returns once the action is done; the *AndWait forms and
// Start/Restart also wait until the host is ready again.

// Stop stops the host container (SIGTERM, then SIGKILL after 10 s).
func (h *Host) Stop(ctx context.Context) error {
	if _, err := docker(ctx, "stop", "-t", "10", h.Container); err != nil {
		return fmt.Errorf("stop host %s: %w", h.Name, err)
	}
	return nil
}

// Kill kills the host container at once (power loss).
func (h *Host) Kill(ctx context.Context) error {
	if _, err := docker(ctx, "kill", h.Container); err != nil {
		return fmt.Errorf("kill host %s: %w", h.Name, err)
	}
	return nil
}

// Start starts a stopped or killed host and waits until it is ready. Its
// address, host keys and /var/lib/docker are kept.
func (h *Host) Start(ctx context.Context) error {
	if _, err := docker(ctx, "start", h.Container); err != nil {
		return fmt.Errorf("start host %s: %w", h.Name, err)
	}
	return h.WaitReady(ctx)
}

// Restart restarts the host container (a reboot) and waits until it is ready.
func (h *Host) Restart(ctx context.Context) error {
	if _, err := docker(ctx, "restart", "-t", "10", h.Container); err != nil {
		return fmt.Errorf("restart host %s: %w", h.Name, err)
	}
	return h.WaitReady(ctx)
}

// Pause freezes every process of the host (a hung machine); Unpause thaws it.
func (h *Host) Pause(ctx context.Context) error {
	if _, err := docker(ctx, "pause", h.Container); err != nil {
		return fmt.Errorf("pause host %s: %w", h.Name, err)
	}
	return nil
}

// Unpause thaws a paused host.
func (h *Host) Unpause(ctx context.Context) error {
	if _, err := docker(ctx, "unpause", h.Container); err != nil {
		return fmt.Errorf("unpause host %s: %w", h.Name, err)
	}
	return nil
}

// Disconnect cuts the host off the fleet network (a partition): it cannot
// be reached from the machine or the other hosts until Reconnect.
func (h *Host) Disconnect(ctx context.Context) error {
	if _, err := docker(ctx, "network", "disconnect", "-f", h.fleet.Network, h.Container); err != nil {
		return fmt.Errorf("disconnect host %s: %w", h.Name, err)
	}
	return nil
}

// Reconnect puts a disconnected host back on the network at its address.
func (h *Host) Reconnect(ctx context.Context) error {
	if _, err := docker(ctx, "network", "connect", "--ip", h.Addr.String(), h.fleet.Network, h.Container); err != nil {
		return fmt.Errorf("reconnect host %s: %w", h.Name, err)
	}
	return nil
}

// RestartDockerd stops the host's dockerd (SIGTERM, as `systemctl restart
// docker` would) and waits until a new dockerd answers. Containers without a
// restart policy stay stopped, as on a real host.
func (h *Host) RestartDockerd(ctx context.Context) error {
	old, err := h.Exec(ctx, "pgrep", "-x", "dockerd")
	if err != nil {
		return fmt.Errorf("restart dockerd on %s: find dockerd: %w", h.Name, err)
	}
	if _, err := h.Exec(ctx, "kill", "-TERM", strings.TrimSpace(old)); err != nil {
		return fmt.Errorf("restart dockerd on %s: %w", h.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	var last error
	for {
		pid, err := h.Exec(ctx, "pgrep", "-x", "dockerd")
		if err == nil && strings.TrimSpace(pid) != strings.TrimSpace(old) {
			if _, err := h.Docker(ctx, "info", "--format", "{{.ServerVersion}}"); err == nil {
				return nil
			} else {
				last = err
			}
		} else if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart dockerd on %s: %w (last: %v)", h.Name, ctx.Err(), last)
		case <-time.After(pollInterval):
		}
	}
}

// KillContainer sends signal ("KILL", "TERM", ...) to a container of the
// host's dockerd.
func (h *Host) KillContainer(ctx context.Context, name, signal string) error {
	if _, err := h.Docker(ctx, "kill", "--signal", signal, name); err != nil {
		return fmt.Errorf("kill container %s on %s: %w", name, h.Name, err)
	}
	return nil
}

// KillProcess sends signal ("KILL", "TERM", ...) to every process of the
// host (its containers' processes included) whose name is exactly name. It
// is an error when none matches.
func (h *Host) KillProcess(ctx context.Context, name, signal string) error {
	if _, err := h.Exec(ctx, "pkill", "--signal", signal, "-x", name); err != nil {
		return fmt.Errorf("kill process %s on %s: %w", name, h.Name, err)
	}
	return nil
}

// dockerTmp is where dockerd stages what `docker load` unpacks.
const dockerTmp = "/var/lib/docker/tmp"

// FillDisk makes the host's disk full for image loads: a tmpfs of size
// (e.g. "64k") over dockerd's staging directory, so `docker load` fails
// with ENOSPC as on a full disk, while everything already on disk keeps
// running (a tmpfs holds at least one page, 4k). FreeDisk undoes it.
func (h *Host) FillDisk(ctx context.Context, size string) error {
	if _, err := h.Exec(ctx, "mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dockerTmp); err != nil {
		return fmt.Errorf("fill disk of %s: %w", h.Name, err)
	}
	return nil
}

// FreeDisk removes FillDisk's tmpfs; what was staged on it goes with it.
func (h *Host) FreeDisk(ctx context.Context) error {
	if _, err := h.Exec(ctx, "umount", dockerTmp); err != nil {
		return fmt.Errorf("free disk of %s: %w", h.Name, err)
	}
	return nil
}

// StagedFiles lists what is left in dockerd's staging directory.
func (h *Host) StagedFiles(ctx context.Context) (string, error) {
	out, err := h.Exec(ctx, "sh", "-c", "ls -A "+dockerTmp)
	if err != nil {
		return "", fmt.Errorf("list %s on %s: %w", dockerTmp, h.Name, err)
	}
	return strings.TrimSpace(out), nil
}

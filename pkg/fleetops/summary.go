package fleetops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/fleet"
)

// builderKillGrace bounds how long a failed build waits to learn whether
// the Ctrl-C that killed the builder (it shares the terminal's process
// group) is also cancelling this command.
const builderKillGrace = 500 * time.Millisecond

// buildError is err, unless the build failed because the command was
// interrupted: then it is the cancellation alone, without the builder's
// "signal: killed" and its last lines, which say nothing about the app.
func buildError(ctx context.Context, image string, err error) error {
	t := time.NewTimer(builderKillGrace)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("build %s: %w", image, context.Cause(ctx))
	case <-t.C:
		return err
	}
}

// summary prints the command's last lines: the result and, when it did
// not succeed, what each host now serves.
func (s *Session) summary(verb, version string, hosts []string, rep *fleet.Report, shipped int64, err error) {
	result := "succeeded"
	if err != nil {
		result = "FAILED"
		if errors.Is(err, context.Canceled) {
			result = "CANCELLED"
		}
	}
	s.out.Summary("%s of %s %s to %d host(s) %s in %s (shipped %s)", verb, s.Cfg.Service, version, len(hosts), result, s.out.Elapsed().Round(100*time.Millisecond), humanBytes(shipped))
	if err == nil {
		return
	}
	for _, line := range servingLines(verb, version, hosts, rep) {
		s.out.Summary("%s", line)
	}
}

// interrupted is err, marked as cancelled when the command was
// interrupted: a step cut short by the interrupt may say only what it saw
// (a killed local docker, a closed SSH session).
func interrupted(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, context.Canceled)
}

// failedEarly returns err, a failure before the deploy itself began
// (hosts prepared, sidecar shipped, hooks), as a *HostLostError when a
// host stopped answering (while being dialled, say). When the command was
// interrupted it first prints the CANCELLED summary: no host was changed.
// An interrupt surfaces here as whatever the cut-short step said (an SSH
// or docker error), so the context decides, not err.
func (s *Session) failedEarly(ctx context.Context, verb, version string, hosts []string, err error) error {
	err = describeLost(err, hosts, nil, version)
	if ctx.Err() == nil {
		return err
	}
	s.summary(verb, version, hosts, nil, 0, interrupted(ctx, err))
	return err
}

// servingLines say, for a command that did not succeed, what each target
// serves now. Before the swap began (no outcomes) no host was changed.
func servingLines(verb, version string, hosts []string, rep *fleet.Report) []string {
	if rep == nil || len(rep.Outcomes) == 0 {
		if len(hosts) == 0 {
			return nil
		}
		return []string{fmt.Sprintf("  no host was changed: %s still serve(s) the version served before", strings.Join(hosts, ", "))}
	}
	var out []string
	for _, o := range rep.Outcomes {
		v := serves(o, version)
		if verb == verbRollback {
			v = rollbackServes(o, version)
		}
		line := fmt.Sprintf("  %s: %s, serves %s", o.Target, o.Status, v)
		if o.Err != nil {
			line += ": " + firstLine(o.Err.Error())
		}
		out = append(out, line)
	}
	return out
}

// serves is the version a target is left on after its outcome.
func serves(o fleet.Outcome, version string) string {
	switch o.Status {
	case fleet.StatusDeployed, fleet.StatusUnchanged:
		return version
	case fleet.StatusRollbackFailed:
		return "an unknown version (check with `docker kamal app details`)"
	}
	if o.Previous == "" {
		return "nothing (it had no version before)"
	}
	return o.Previous
}

// rollbackServes is what a target of a rollback command serves after its
// outcome: a cancelled rollback's undone targets serve what they served
// before; a target that failed may serve either version (it failed before
// or after its cutover).
func rollbackServes(o fleet.Outcome, version string) string {
	switch {
	case o.Status == fleet.StatusRolledBack:
		return version
	case o.Status == fleet.StatusUndone && o.Previous != "":
		return o.Previous
	}
	return "an unknown version (check with `docker kamal app details`)"
}

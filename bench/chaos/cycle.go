package chaos

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// cycle runs one cycle: the command under load with its fault, then the
// heal, the repair and the checks. An error is a harness failure that ends
// the soak; what the product got wrong goes in Run.Violations.
func (s *soak) cycle(ctx context.Context, c Cycle) (*CycleRun, error) {
	t0 := time.Now()
	r := &CycleRun{Cycle: c, Old: s.live, Ran: c.Op, Tally: map[string]Tally{}}
	defer func() { r.Total = time.Since(t0).Seconds() }()
	args, err := s.prepare(ctx, r)
	if err != nil {
		return r, err
	}
	l, err := s.startLoad(ctx)
	if err != nil {
		return r, err
	}
	cmd, err := s.start(ctx, args...)
	if err != nil {
		l.stop()
		return r, err
	}
	inj := s.inject(ctx, c, cmd, s.expectedDuration(r.Ran))
	if err := cmd.wait(commandTimeout); err != nil {
		r.violate("%v", err)
	}
	s.saveLog(cmd)
	r.Exit, r.Seconds = cmd.Exit, cmd.End.Sub(cmd.Start).Seconds()
	if err := s.heal(ctx, inj); err != nil {
		l.stop()
		return r, err
	}
	s.noteFault(r, cmd, inj)
	s.waitSettled(ctx)
	s.waitServing(ctx, r)
	r.After = s.served(ctx)
	expected := s.checkOutcome(r, cmd, inj)
	if err := s.repair(ctx, r, expected); err != nil {
		l.stop()
		return r, err
	}
	s.checkFinal(ctx, r, expected)
	s.tally(r, l.stop(), inj, cmd.Start)
	s.diagnose(ctx, r, inj, t0)
	if r.Exit == 0 && (c.Fault == FaultNone || !r.Landed) {
		s.expected[r.Ran] = append(s.expected[r.Ran], cmd.End.Sub(cmd.Start))
	}
	if expected != r.Old {
		s.prev, s.live = r.Old, expected
	}
	return r, nil
}

func (r *CycleRun) violate(format string, args ...any) {
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

// line is the cycle's one-line outcome.
func (r *CycleRun) line() string {
	failed := 0
	for _, t := range r.Tally {
		failed += t.Failed
	}
	s := fmt.Sprintf("%s %s -> exit %d in %.1fs", r.Ran, r.Target, r.Exit, r.Seconds)
	if r.Fault != FaultNone {
		s += fmt.Sprintf("; %s at %.1fs", r.Fault, r.FaultAt)
		if !r.Landed {
			s += " (after the command ended)"
		}
	}
	if r.Detect > 0 {
		s += fmt.Sprintf(", detected in %.1fs", r.Detect)
	}
	if r.LockHeld {
		s += "; lock released"
	}
	if r.Converged {
		s += "; converging deploy"
	}
	s += fmt.Sprintf("; final %s; %d failed requests; cycle %.0fs", versionsString(r.Final), failed, r.Total)
	if len(r.Violations) > 0 {
		s += "\n    VIOLATIONS: " + strings.Join(r.Violations, "; ")
	}
	return s
}

func versionsString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

// prepare picks the cycle's target version, builds it if new, and returns
// the command's arguments.
func (s *soak) prepare(ctx context.Context, r *CycleRun) ([]string, error) {
	if r.Op == OpRollback {
		ok, err := s.retainedEverywhere(ctx, s.prev)
		if err != nil {
			return nil, err
		}
		if ok {
			r.Target = s.prev
			return []string{"-v", "rollback", s.prev}, nil
		}
		r.Ran = OpDeploy // nothing to roll back to
	}
	v, err := s.newVersion(ctx, r.Ran == OpNeverHealthy)
	if err != nil {
		return nil, err
	}
	r.Target = v
	return []string{"-v", "deploy", "--skip-push", "--version", v}, nil
}

// retainedEverywhere reports whether every host keeps a container of
// version to roll back to.
func (s *soak) retainedEverywhere(ctx context.Context, version string) (bool, error) {
	if version == "" {
		return false, nil
	}
	for _, h := range s.f.Hosts {
		out, err := h.Docker(ctx, "ps", "-aq", "--filter", "label=kamal.service="+Service, "--filter", "label=kamal.version="+version)
		if err != nil {
			return false, fmt.Errorf("%w: list containers on %s: %w", errHarness, h.Name, err)
		}
		if strings.TrimSpace(out) == "" {
			return false, nil
		}
	}
	return true, nil
}

// expectedDuration is the median of the op's successful runs so far that
// no fault touched, or a guess before the first.
func (s *soak) expectedDuration(op Op) time.Duration {
	if ds := s.expected[op]; len(ds) > 0 {
		c := slices.Clone(ds)
		slices.Sort(c)
		return c[len(c)/2]
	}
	switch op {
	case OpRollback:
		return 2 * time.Second
	case OpNeverHealthy:
		return (deployTimeout + 3) * time.Second
	}
	return 4 * time.Second
}

// load is one generator per host, through the host's Traefik.
type load struct {
	gens []*loadgen.Generator
}

func (s *soak) startLoad(ctx context.Context) (*load, error) {
	l := &load{}
	for _, h := range s.f.Hosts {
		g, err := loadgen.Start(ctx, loadgen.Config{
			URL: "http://" + h.Addr.String() + "/", Rate: s.opts.Rate, Duration: 20 * time.Minute,
			Count: loadgen.MaxCount, Timeout: 5 * time.Second, Allow: []netip.Prefix{s.f.Subnet},
		})
		if err != nil {
			l.stop()
			return nil, fmt.Errorf("%w: start load: %w", errHarness, err)
		}
		l.gens = append(l.gens, g)
	}
	return l, nil
}

func (l *load) stop() []*loadgen.Report {
	out := make([]*loadgen.Report, len(l.gens))
	for i, g := range l.gens {
		out[i] = g.Stop()
	}
	return out
}

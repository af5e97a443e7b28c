package bench

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// fleetRun is the 3-host app under test and what its operations recorded.
type fleetRun struct {
	f    *harness.Fleet
	dir  string
	web  []*harness.Host
	live string // version the fleet serves
	prev string // the version before it (retained)
	// history are the versions deployed, oldest first.
	history []string
	next    int // next z-version number

	// reported cutovers (sidecar) and measured ones (load), in ms.
	cutReported, cutMeasured []float64
	// rollbackFleet is the wall time of fleet rollbacks, s.
	rollbackFleet []float64
	// rollbackServing is command start to every host serving the old
	// version, s.
	rollbackServing []float64
	// rollbackRouted is command start to every web host serving it, s.
	rollbackRouted []float64
	deployTimes    []float64
}

// op is one timed docker kamal command under load.
func (e *env) kamal(ctx context.Context, dir string, args ...string) *Invocation {
	r := e.plugin.Kamal(ctx, dir, opTimeout, args...)
	fmt.Fprintf(e.opts.Log, "    docker kamal %v: %v (err %v)\n", args, r.Took.Round(time.Millisecond), r.Err != nil)
	e.saveLog(r)
	return r
}

// benchZeroDowntime runs the four load cases on the fleet's web hosts.
func (e *env) benchZeroDowntime(ctx context.Context, s *Scenario, fr *fleetRun) error {
	cases := []struct {
		name string
		slow bool
		op   func(ctx context.Context, i int, l *load) error
	}{
		{"steady state (no operation)", false, func(ctx context.Context, i int, l *load) error { return holdLoad(ctx, 5*time.Second) }},
		{"deploy", false, func(ctx context.Context, i int, l *load) error { return e.deployNext(ctx, fr, l) }},
		{"rollback", false, func(ctx context.Context, i int, l *load) error { return e.rollbackPrev(ctx, fr, l) }},
		{"never-healthy deploy", false, func(ctx context.Context, i int, l *load) error { return e.deployNeverHealthy(ctx, fr, i) }},
		{"slow requests across cutover", true, func(ctx context.Context, i int, l *load) error { return e.deployNext(ctx, fr, l) }},
	}
	var errs []error
	for _, c := range cases {
		fmt.Fprintf(e.opts.Log, "  case %s\n", c.name)
		l, err := startLoad(ctx, fr.f, fr.web, loadSpec{Rate: e.opts.Rate, Slow: c.slow, Max: scenarioTimeout})
		if err != nil {
			return err
		}
		ops, err := opLoop(ctx, l, e.opts.Repeats, e.opts.MinRequests, scenarioTimeout-time.Minute, func(i int) error {
			return c.op(ctx, i, l)
		})
		lc := l.finish(c.name, ops)
		fr.cutMeasured = append(fr.cutMeasured, l.measuredCutovers()...)
		s.Load = append(s.Load, lc)
		s.Add("failed requests: "+c.name, "requests", []float64{float64(lc.Failed())}, MaxAtMost(0))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			break
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// deployNext deploys the next z-version (a new image ID) with --skip-push.
func (e *env) deployNext(ctx context.Context, fr *fleetRun, l *load) error {
	fr.next++
	v := fmt.Sprintf("z%d", fr.next)
	if _, err := e.derivedImage(ctx, v); err != nil {
		return err
	}
	r := e.kamal(ctx, fr.dir, "-v", "deploy", "--skip-push", "--version", v)
	if r.Err != nil {
		return r.Err
	}
	fr.deployTimes = append(fr.deployTimes, secs(r.Took))
	fr.prev, fr.live = fr.live, v
	fr.history = append(fr.history, v)
	if l != nil {
		fr.cutovers(r, l, v)
	}
	return nil
}

// rollbackPrev rolls the fleet back to the previous version.
func (e *env) rollbackPrev(ctx context.Context, fr *fleetRun, l *load) error {
	if fr.prev == "" {
		return fmt.Errorf("no previous version to roll back to")
	}
	v := fr.prev
	r := e.kamal(ctx, fr.dir, "-v", "rollback", v)
	if r.Err != nil {
		return r.Err
	}
	fr.rollbackFleet = append(fr.rollbackFleet, secs(r.Took))
	if at, ok := ServingAt(r); ok {
		fr.rollbackServing = append(fr.rollbackServing, secs(at))
	}
	if at, ok := RoutedAt(r); ok {
		fr.rollbackRouted = append(fr.rollbackRouted, secs(at))
	}
	fr.prev, fr.live = fr.live, v
	if l != nil {
		fr.cutovers(r, l, v)
	}
	for _, h := range fr.web {
		if err := waitServes(ctx, fr.f, h, "", v, 5*time.Second); err != nil {
			return fmt.Errorf("after rollback: %w", err)
		}
	}
	return nil
}

// deployNeverHealthy deploys a version whose /up always fails: the command
// must fail and the fleet keep serving the live version.
func (e *env) deployNeverHealthy(ctx context.Context, fr *fleetRun, i int) error {
	v := fmt.Sprintf("nh%d", i+1)
	if _, err := e.derivedImage(ctx, v, "NEVER_HEALTHY=1"); err != nil {
		return err
	}
	r := e.kamal(ctx, fr.dir, "-v", "deploy", "--skip-push", "--version", v)
	if r.Err == nil {
		return fmt.Errorf("deploy of never-healthy %s succeeded:\n%s", v, r.Tail(20))
	}
	for _, h := range fr.web {
		if err := waitServes(ctx, fr.f, h, "", fr.live, 5*time.Second); err != nil {
			return fmt.Errorf("after the failed deploy: %w", err)
		}
	}
	return nil
}

var (
	reHealthy = regexp.MustCompile(`\[([^\]]+)\] web wait-healthy: done`)
	reCutover = regexp.MustCompile(`\[([^\]]+)\] web cutover ([0-9.]+[a-zµ]+)`)
)

// cutovers collects the sidecar-reported cutover of each web host from
// the verbose output, and measures it from outside: from the moment the
// plugin printed green healthy on a host to the first 2xx from version that
// host's load got back.
func (fr *fleetRun) cutovers(r *Invocation, l *load, version string) {
	healthy := map[string]time.Time{}
	for _, line := range r.Lines {
		if m := reCutover.FindStringSubmatch(line.Text); m != nil {
			if d, err := time.ParseDuration(m[2]); err == nil {
				fr.cutReported = append(fr.cutReported, ms(d))
			}
		}
		if m := reHealthy.FindStringSubmatch(line.Text); m != nil {
			healthy[m[1]] = r.Start.Add(line.At)
		}
	}
	for i, h := range l.hosts {
		if at, ok := healthy[h.Addr.String()]; ok {
			l.checks = append(l.checks, cutoverCheck{host: i, version: version, healthy: at})
		}
	}
}

// cutoverCheck is a cutover to measure from the load once it stopped.
type cutoverCheck struct {
	host    int
	version string
	healthy time.Time
}

// measuredCutovers resolves the checks against the stopped load's results:
// green healthy to the first 2xx from green, in ms.
func (l *load) measuredCutovers() []float64 {
	var out []float64
	for _, c := range l.checks {
		if c.host >= len(l.reports) {
			continue
		}
		if first, ok := firstServed(l.reports[c.host].Results, c.version, c.healthy); ok {
			out = append(out, ms(first.Sub(c.healthy)))
		}
	}
	return out
}

func firstServed(results []loadgen.Result, version string, since time.Time) (time.Time, bool) {
	var best time.Time
	for _, r := range results {
		if !r.OK() || r.Version != version || r.Start.Before(since.Add(-200*time.Millisecond)) {
			continue
		}
		end := r.Start.Add(r.Latency)
		if best.IsZero() || end.Before(best) {
			best = end
		}
	}
	return best, !best.IsZero()
}

// holdLoad is the steady-state case's operation: the load runs for d with
// nothing deployed, the baseline of the other cases' latencies.
func holdLoad(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

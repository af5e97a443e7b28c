package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// benchE2E deploys a one-line change with its build (pre-build hook
// compiles the app, docker build, ship, migrate, swap) to the 3-host fleet,
// as a user runs it, and breaks the wall time down by phase.
func (e *env) benchE2E(ctx context.Context, s *Scenario, fr *fleetRun) error {
	var took []float64
	var runs, parts [][]Phase
	for i := 0; i < e.opts.HeavyRepeats; i++ {
		v := fmt.Sprintf("e%d", i+1)
		r := e.kamal(ctx, fr.dir, "-v", "deploy", "--version", v)
		if r.Err != nil {
			return r.Err
		}
		e.images.extra = append(e.images.extra, harness.SampleAppRepo+":"+v, harness.SampleAppRepo+":latest")
		for _, h := range fr.web {
			if err := waitServes(ctx, fr.f, h, "", v, 10*time.Second); err != nil {
				return err
			}
		}
		fr.prev, fr.live = fr.live, v
		took = append(took, secs(r.Took))
		phases, swaps := Phases(r)
		runs = append(runs, phases)
		parts = append(parts, swaps)
	}
	s.Add("deploy with build, 3 hosts", "s", took, AtMost(6))
	// The phase breakdown of the median run.
	med := Summarize(took).Median
	best := 0
	for i, t := range took {
		if abs(t-med) < abs(took[best]-med) {
			best = i
		}
	}
	s.Phases = append(append([]Phase{}, runs[best]...), parts[best]...)
	for _, p := range runs[best] {
		var vals []float64
		for _, run := range runs {
			for _, q := range run {
				if q.Name == p.Name {
					vals = append(vals, q.Seconds)
				}
			}
		}
		s.Add("phase: "+p.Name, "s", vals, nil)
	}
	s.Note("version eN: the pre-build hook compiles the sample app with the version string changed (a one-line change), docker build adds one ~11 MB layer over v1")
	return nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// benchRollback times a rollback of one host (--hosts) and collects the
// fleet rollbacks timed under load by the zero-downtime scenario.
func (e *env) benchRollback(ctx context.Context, s *Scenario, fr *fleetRun) error {
	h := fr.web[0]
	live, prev := fr.live, fr.prev
	if prev == "" {
		return fmt.Errorf("no retained version to roll back to")
	}
	var one, oneServing []float64
	target := prev
	for i := 0; i < e.opts.Repeats; i++ {
		r := e.kamal(ctx, fr.dir, "-v", "rollback", target, "--hosts", h.Addr.String())
		if r.Err != nil {
			return r.Err
		}
		if err := waitServes(ctx, fr.f, h, "", target, 5*time.Second); err != nil {
			return err
		}
		one = append(one, secs(r.Took))
		if at, ok := ServingAt(r); ok {
			oneServing = append(oneServing, secs(at))
		}
		if target == prev {
			target = live
		} else {
			target = prev
		}
	}
	// Leave host1 on the fleet's live version.
	if target == live {
		if r := e.kamal(ctx, fr.dir, "rollback", live, "--hosts", h.Addr.String()); r.Err != nil {
			return r.Err
		}
	}
	cold, err := e.coldRollbacks(ctx, fr, h)
	if err != nil {
		return err
	}
	s.Add("rollback, 1 host: start to serving, cold (a stopped version)", "s", cold, nil)
	s.Add("rollback, 1 host: start to serving", "s", oneServing, AtMost(3))
	s.Add("rollback, fleet of 3: start to serving (warm)", "s", fr.rollbackServing, AtMost(1))
	s.Add("rollback, fleet of 3: start to the web hosts serving (warm)", "s", fr.rollbackRouted, nil)
	s.Add("rollback, 1 host: command exit", "s", one, nil)
	s.Add("rollback, fleet of 3: command exit", "s", fr.rollbackFleet, nil)
	s.Note("start to serving: command start to the last host's cutover confirmed (Traefik serves the old version; for the job role, healthy), from the timed -v progress; command exit adds draining and stopping the newer containers; the fleet figures are the rollbacks of the zero-downtime scenario, under load")
	return nil
}

// benchCutover reports the cutovers the zero-downtime deploys and
// rollbacks saw.
func (e *env) benchCutover(s *Scenario, fr *fleetRun) {
	s.Add("cutover reported by the sidecar", "ms", fr.cutReported, AtMost(300))
	s.Add("cutover measured by the load", "ms", fr.cutMeasured, AtMost(300))
	s.Note("reported: the sidecar's green healthy -> Traefik API shows green; measured: the plugin printed green healthy -> first 2xx from green at that host's Traefik (includes the SSH event stream's delay)")
}

// benchFanout deploys a warm one-layer change (a new build of the sample
// app, ~11 MB layer) to 1, 4, 8 and 12 hosts, order rotated per repeat,
// and breaks each size's time down by phase.
func (e *env) benchFanout(ctx context.Context, s *Scenario, f *harness.Fleet, dir string) error {
	sizes := []int{1, 4, 8, 12}
	times := map[int][]float64{}
	phases := map[int]map[string][]float64{}
	for i := 0; i < e.opts.HeavyRepeats; i++ {
		for j := range sizes {
			n := sizes[(i+j)%len(sizes)]
			v := fmt.Sprintf("f%d-%d", i+1, n)
			ref, err := harness.BuildSampleApp(ctx, v)
			if err != nil {
				return err
			}
			e.images.extra = append(e.images.extra, ref)
			var hosts []string
			for _, h := range f.Hosts[:n] {
				hosts = append(hosts, h.Addr.String())
			}
			r := e.kamal(ctx, dir, "-v", "deploy", "--skip-push", "--version", v, "--hosts", joinComma(hosts))
			if r.Err != nil {
				return r.Err
			}
			for _, h := range f.Hosts[:n] {
				if err := waitServes(ctx, f, h, "", v, 10*time.Second); err != nil {
					return err
				}
			}
			times[n] = append(times[n], secs(r.Took))
			if phases[n] == nil {
				phases[n] = map[string][]float64{}
			}
			ph, _ := Phases(r)
			for _, p := range ph {
				phases[n][p.Name] = append(phases[n][p.Name], p.Seconds)
			}
		}
	}
	for _, n := range sizes {
		s.Add(fmt.Sprintf("deploy to %d host(s)", n), "s", times[n], nil)
	}
	s.AddRatio("time(12) / time(1)", times[12], times[1], AtMost(1.5))
	s.AddRatio("time(4) / time(1)", times[4], times[1], nil)
	s.AddRatio("time(8) / time(1)", times[8], times[1], nil)
	for _, n := range sizes {
		for _, pm := range phaseMarks {
			if v := phases[n][pm.name]; len(v) > 0 {
				s.Add(fmt.Sprintf("%d host(s), phase: %s", n, pm.name), "s", v, nil)
			}
		}
	}
	s.Note("docker kamal deploy --skip-push --version fR-N --hosts (first N hosts); each version is a fresh build of the sample app, so every deploy ships one new layer")
	return nil
}

func joinComma(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// coldRollbacks rolls host h back to retained versions that are no longer
// warm (stopped: each boots and passes its health check), each followed by
// a roll forward to the live version (warm), and returns the cold ones'
// start to serving. Each goes to another version: one rolled back to is
// warm afterwards. At most 3, the newest retained.
func (e *env) coldRollbacks(ctx context.Context, fr *fleetRun, h *harness.Host) ([]float64, error) {
	var cold []string
	for i := len(fr.history) - 1; i >= 0 && len(cold) < min(3, e.opts.Repeats); i-- {
		if v := fr.history[i]; v != fr.live && v != fr.prev {
			cold = append(cold, v)
		}
	}
	var out []float64
	for _, v := range cold {
		r := e.kamal(ctx, fr.dir, "-v", "rollback", v, "--hosts", h.Addr.String())
		if r.Err != nil {
			return out, r.Err
		}
		if at, ok := ServingAt(r); ok {
			out = append(out, secs(at))
		}
		if r := e.kamal(ctx, fr.dir, "rollback", fr.live, "--hosts", h.Addr.String()); r.Err != nil {
			return out, r.Err
		}
		if err := waitServes(ctx, fr.f, h, "", fr.live, 5*time.Second); err != nil {
			return out, err
		}
	}
	return out, nil
}

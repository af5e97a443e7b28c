package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// The Rails scenario deploys examples/rails in its Kamal 1 shape (web on two
// hosts; the job role, PostgreSQL and Redis on the third) with its real
// build, and times deploys and rollbacks under load.
const (
	railsConfig = "config/deploy.kamal1.yml"
	// railsRate is requests/s per web host: three puma threads per host on
	// the shared cores, while the next version boots beside them.
	railsRate = 20.0
	// railsDBPassword is the example's database secret (never printed).
	railsDBPassword = "bench-rails-pg-61f0c2"
)

// railsRun is the Rails fleet and the versions it has run.
type railsRun struct {
	f      *harness.Fleet
	app    *harness.RailsApp
	plugin *Plugin
	web    []*harness.Host
	live   string
	// warm is the version kept running out of rotation (the one live
	// before live); stopped are the retained versions that are not.
	warm    string
	stopped []string
}

// benchRails sets up the Rails fleet, deploys two one-line changes with
// their builds, and rolls back to warm and to stopped versions, all under
// load; every host must serve each new version, with 0 failed requests.
func (e *env) benchRails(ctx context.Context, s *Scenario) error {
	rr, err := e.startRails(ctx)
	if err != nil {
		return err
	}
	defer e.closeFleet(rr.f)
	r, err := rr.op(ctx, e, "r1", "setup", "--version", "r1")
	if err != nil {
		return err
	}
	s.Add("setup of 3 blank hosts with the Rails build (accessories, v1)", "s", []float64{secs(r.Took)}, nil)
	rr.live = "r1"

	l, err := startLoad(ctx, rr.f, rr.web, loadSpec{Rate: railsRate, Max: scenarioTimeout})
	if err != nil {
		return err
	}
	m, err := e.railsOps(ctx, rr, l)
	lc := l.finish("Rails: deploys and rollbacks", m.ops)
	s.Load = append(s.Load, lc)
	s.Add("failed requests: Rails deploys and rollbacks", "requests", []float64{float64(lc.Failed())}, MaxAtMost(0))
	if err != nil {
		return err
	}
	s.Add("Rails deploy with build, 3 hosts: command exit", "s", m.deploy, nil)
	s.Add("Rails deploy: start to serving", "s", m.deployServing, nil)
	s.Add("Rails fleet rollback, warm: start to serving", "s", m.warmServing, AtMost(1))
	s.Add("Rails fleet rollback, warm: start to both web hosts serving", "s", m.warmRouted, nil)
	s.Add("Rails fleet rollback, warm: command exit", "s", m.warm, nil)
	s.Add("Rails fleet rollback, cold (stopped version): start to serving", "s", m.coldServing, nil)
	s.Add("Rails fleet rollback, cold: start to both web hosts serving", "s", m.coldRouted, nil)
	s.Add("Rails fleet rollback, cold: command exit", "s", m.cold, nil)
	s.Phases = m.phases
	s.Note("examples/rails (Debian's Ruby 3.3, Rails 7.2) with %s; rN changes VERSION (the page and the assets' content): the build is BuildKit with its cache", railsConfig)
	s.Note("warm: the version live before, still running out of rotation (sidecar.keep_warm); cold: a retained version whose container was stopped, so puma boots again; the job role has no proxy and is never kept warm: its rollback is a docker start plus the still-running check of a container that was live just before")
	s.Note("load: %v req/s on each web host through Traefik throughout, %d operations", railsRate, m.ops)
	return nil
}

func (e *env) startRails(ctx context.Context) (*railsRun, error) {
	e.logf("    starting 3 harness hosts for the Rails app")
	f, err := e.startFleet(ctx, 3)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.work, "rails")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	app, err := harness.NewRailsApp(ctx, dir, f, "")
	if err != nil {
		return nil, err
	}
	p := *e.plugin
	p.Env = append(append([]string{}, e.plugin.Env...), "HOME="+app.Home, "DOCKER_KAMAL_SHIP_COMPRESS=0",
		"RAILS_DEMO_DATABASE_PASSWORD="+railsDBPassword)
	return &railsRun{f: f, app: app, plugin: &p, web: f.Hosts[:2]}, nil
}

// op runs docker kamal -v args -c config and waits for every web host to
// serve version. A build (setup, deploy) builds version: the app's VERSION
// file is written first, the one-line change.
func (rr *railsRun) op(ctx context.Context, e *env, version string, args ...string) (*Invocation, error) {
	if args[0] != "rollback" {
		if err := rr.app.SetVersion(version); err != nil {
			return nil, err
		}
	}
	args = append(append([]string{"-v"}, args...), "-c", railsConfig)
	r := rr.plugin.Kamal(ctx, rr.app.Dir, opTimeout, args...)
	fmt.Fprintf(e.opts.Log, "    docker kamal %v: %v (err %v)\n", args, r.Took.Round(time.Millisecond), r.Err != nil)
	e.saveLog(r)
	if r.Err != nil {
		return r, r.Err
	}
	for _, h := range rr.web {
		if err := waitServes(ctx, rr.f, h, "", version, 30*time.Second); err != nil {
			return r, err
		}
	}
	return r, nil
}

// railsTimes are the Rails scenario's measurements, in seconds.
type railsTimes struct {
	ops                                  int
	deploy, deployServing                []float64
	warm, warmServing, cold, coldServing []float64
	warmRouted, coldRouted               []float64
	phases                               []Phase
}

// railsOps deploys r2, rolls back to r1 (warm), deploys r3, then rolls
// back alternately to a stopped version (cold) and to r3 (warm again).
func (e *env) railsOps(ctx context.Context, rr *railsRun, l *load) (railsTimes, error) {
	var m railsTimes
	for _, v := range []string{"r2", "r3"} {
		l.mark()
		r, err := rr.op(ctx, e, v, "deploy", "--version", v)
		m.ops++
		if err != nil {
			return m, err
		}
		m.deploy = append(m.deploy, secs(r.Took))
		if at, ok := ServingAt(r); ok {
			m.deployServing = append(m.deployServing, secs(at))
		}
		if v == "r2" {
			phases, swaps := Phases(r)
			m.phases = append(phases, swaps...)
		}
		rr.switched(v)
		if v == "r2" {
			if err := e.railsRollback(ctx, rr, l, &m, rr.warm); err != nil {
				return m, err
			}
		}
	}
	for i := 0; i < min(e.opts.HeavyRepeats, 2); i++ {
		if err := e.railsRollback(ctx, rr, l, &m, rr.stopped[len(rr.stopped)-1]); err != nil {
			return m, err
		}
		if err := e.railsRollback(ctx, rr, l, &m, rr.warm); err != nil {
			return m, err
		}
	}
	return m, nil
}

// railsRollback rolls the fleet back to target, timed as warm or cold by
// whether target was the warm version.
func (e *env) railsRollback(ctx context.Context, rr *railsRun, l *load, m *railsTimes, target string) error {
	warm := target == rr.warm
	l.mark()
	r, err := rr.op(ctx, e, target, "rollback", target)
	m.ops++
	if err != nil {
		return fmt.Errorf("rollback to %s (warm %v): %w", target, warm, err)
	}
	at, ok := ServingAt(r)
	web, webOK := RoutedAt(r)
	switch {
	case warm:
		m.warm = append(m.warm, secs(r.Took))
		if ok {
			m.warmServing = append(m.warmServing, secs(at))
		}
		if webOK {
			m.warmRouted = append(m.warmRouted, secs(web))
		}
	default:
		m.cold = append(m.cold, secs(r.Took))
		if ok {
			m.coldServing = append(m.coldServing, secs(at))
		}
		if webOK {
			m.coldRouted = append(m.coldRouted, secs(web))
		}
	}
	rr.switched(target)
	return nil
}

// switched records that the fleet now serves v: the version it replaced
// goes warm, and the one warm before is stopped.
func (rr *railsRun) switched(v string) {
	var stopped []string
	for _, s := range append(rr.stopped, rr.warm) {
		if s != "" && s != v && s != rr.live {
			stopped = append(stopped, s)
		}
	}
	rr.stopped, rr.warm, rr.live = stopped, rr.live, v
}

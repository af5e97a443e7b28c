package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// env is what the scenarios share.
type env struct {
	opts   Options
	work   string
	plugin *Plugin
	images struct {
		app, traefik, postgres, shipChanged string
		// extra are images this run built, removed at the end.
		extra []string
	}
	fleets []*harness.Fleet
	// logs counts the command logs written.
	logs int
}

// saveLog writes an invocation's output to the log directory, if any.
func (e *env) saveLog(r *Invocation) {
	if e.opts.LogDir == "" {
		return
	}
	e.logs++
	name := fmt.Sprintf("%03d-%s.log", e.logs, strings.Join(strings.Fields(strings.Map(func(c rune) rune {
		if c == '/' || c == ' ' {
			return ' '
		}
		return c
	}, strings.Join(r.Args, " "))), "_"))
	b := FormatLog(r)
	if err := os.MkdirAll(e.opts.LogDir, 0o755); err == nil {
		os.WriteFile(filepath.Join(e.opts.LogDir, name), []byte(b), 0o644) //nolint:errcheck // diagnostics only
	}
}

func (e *env) fleetOf(h *harness.Host) *harness.Fleet {
	for _, f := range e.fleets {
		for _, x := range f.Hosts {
			if x == h {
				return f
			}
		}
	}
	return nil
}

func (e *env) logf(format string, args ...any) { fmt.Fprintf(e.opts.Log, format+"\n", args...) }

// scenario runs fn as the named scenario, bounded by scenarioTimeout, and
// records it whatever happens.
func (e *env) scenario(ctx context.Context, res *Results, name, title string, fn func(ctx context.Context, s *Scenario) error) *Scenario {
	s := &Scenario{Name: name, Title: title}
	res.Scenarios = append(res.Scenarios, s)
	if !e.opts.wants(name) {
		s.Skipped = true
		return s
	}
	e.logf("==> %s: %s", name, title)
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	start := time.Now()
	err := fn(ctx, s)
	s.Seconds = time.Since(start).Seconds()
	if err != nil {
		s.Error = err.Error()
		e.logf("    %s failed after %v: %v", name, time.Since(start).Round(time.Second), err)
	} else {
		e.logf("    %s done in %v", name, time.Since(start).Round(time.Second))
	}
	return s
}

// Run runs the bench: every scenario on fresh harness hosts, which it
// removes before returning, even on failure or cancellation.
func Run(ctx context.Context, opts Options) (res *Results, err error) {
	opts = opts.withDefaults()
	if err := harness.CheckDocker(ctx); err != nil {
		return nil, err
	}
	if err := harness.Sweep(ctx); err != nil {
		return nil, err
	}
	res = &Results{Started: time.Now().UTC(), Smoke: opts.Smoke, Machine: machine(ctx, opts.Root)}
	defer func() { res.Seconds = time.Since(res.Started).Seconds() }()

	work, err := os.MkdirTemp("", "kamal-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	e := &env{opts: opts, work: work}
	defer e.cleanup()

	e.logf("==> building images and the plugin (the first run builds Traefik from source: several minutes)")
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		return nil, err
	}
	e.images.app, e.images.traefik, e.images.postgres = imgs.App, imgs.Traefik, imgs.Postgres
	if e.images.shipChanged, err = harness.BuildSampleApp(ctx, "ship1"); err != nil {
		return nil, err
	}
	e.images.extra = append(e.images.extra, e.images.shipChanged)
	if e.plugin, err = InstallPlugin(ctx, opts.Root, work); err != nil {
		return nil, err
	}
	e.plugin.Env = []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik}

	e.scenario(ctx, res, "startup", "plugin start-up: docker kamal version vs docker version", e.benchStartup)

	if err := e.fleetScenarios(ctx, res); err != nil {
		return res, err
	}
	e.scenario(ctx, res, "setup-2", "setup of 2 blank hosts as Kamal's setup figure was taken (proxy image present)", e.benchSetup2)
	e.scenario(ctx, res, "rails", "Rails: deploy with build, warm and cold fleet rollbacks under load (examples/rails, 3 hosts)", e.benchRails)
	if err := e.fanoutScenario(ctx, res); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// fleetScenarios run on one 3-host fleet: web on all three, job and
// PostgreSQL on the third.
func (e *env) fleetScenarios(ctx context.Context, res *Results) error {
	if !e.opts.wants("ship") && !e.opts.wants("setup") && !e.opts.wants("naive") && !e.opts.wants("zero-downtime") &&
		!e.opts.wants("cutover") && !e.opts.wants("rollback") && !e.opts.wants("e2e-deploy") && !e.opts.wants("footprint") {
		return nil
	}
	e.logf("==> starting 3 harness hosts")
	f, err := e.startFleet(ctx, 3)
	if err != nil {
		return err
	}
	defer e.closeFleet(f)
	fr := &fleetRun{f: f, web: f.Hosts[:3]}
	if fr.dir, err = e.fleetApp(f); err != nil {
		return err
	}

	e.scenario(ctx, res, "ship", "image shipping: one-layer change, imageship vs docker save | ssh docker load", func(ctx context.Context, s *Scenario) error {
		return e.benchShip(ctx, s, f, f.Hosts[2])
	})
	setup := e.scenario(ctx, res, "setup", "docker kamal setup of the 3-host fleet (sidecar, Traefik, PostgreSQL, v1)", func(ctx context.Context, s *Scenario) error {
		r := e.kamal(ctx, fr.dir, "setup", "--skip-push", "--version", "v1")
		if r.Err != nil {
			return r.Err
		}
		s.Add("setup from blank hosts", "s", []float64{secs(r.Took)}, nil)
		fr.live = "v1"
		for _, h := range fr.web {
			if err := waitServes(ctx, f, h, "", "v1", 30*time.Second); err != nil {
				return err
			}
		}
		return nil
	})
	deployable := setup.Error == ""
	needsDeploy := func(fn func(ctx context.Context, s *Scenario) error) func(ctx context.Context, s *Scenario) error {
		return func(ctx context.Context, s *Scenario) error {
			if !deployable {
				return errors.New("setup failed, so no deploy could be measured")
			}
			return fn(ctx, s)
		}
	}
	e.scenario(ctx, res, "naive", "naive baseline: docker stop then docker run behind the same Traefik, under load", func(ctx context.Context, s *Scenario) error {
		return e.benchNaive(ctx, s, f, fr.web)
	})
	zd := e.scenario(ctx, res, "zero-downtime", "zero downtime under load: deploy, rollback, never-healthy deploy, slow requests", needsDeploy(func(ctx context.Context, s *Scenario) error {
		// One deploy first so a rollback has a retained version.
		if err := e.deployNext(ctx, fr, nil); err != nil {
			return err
		}
		return e.benchZeroDowntime(ctx, s, fr)
	}))
	e.scenario(ctx, res, "cutover", "cutover latency: green healthy to Traefik serving green", needsDeploy(func(ctx context.Context, s *Scenario) error {
		if zd.Error != "" && len(fr.cutReported)+len(fr.cutMeasured) == 0 {
			return errors.New("the zero-downtime scenario recorded no cutover")
		}
		e.benchCutover(s, fr)
		return nil
	}))
	e.scenario(ctx, res, "rollback", "rollback time: one host and the fleet of 3", needsDeploy(func(ctx context.Context, s *Scenario) error {
		return e.benchRollback(ctx, s, fr)
	}))
	e.scenario(ctx, res, "e2e-deploy", "end-to-end deploy of a one-line change, build included, 3 hosts", needsDeploy(func(ctx context.Context, s *Scenario) error {
		return e.benchE2E(ctx, s, fr)
	}))
	e.scenario(ctx, res, "footprint", "footprint: sidecar image size and idle RSS", func(ctx context.Context, s *Scenario) error {
		return e.benchFootprint(ctx, s, f.Hosts[0])
	})
	return ctx.Err()
}

// fanoutHosts is the size of the fan-out fleet (the largest deploy).
const fanoutHosts = 12

// fanoutScenario runs on a fleet of its own.
func (e *env) fanoutScenario(ctx context.Context, res *Results) error {
	if !e.opts.wants("fan-out") {
		return nil
	}
	var f *harness.Fleet
	e.scenario(ctx, res, "fan-out", "fan-out: warm one-layer deploy to 1, 4, 8 and 12 hosts", func(ctx context.Context, s *Scenario) error {
		e.logf("    starting %d harness hosts", fanoutHosts)
		var err error
		if f, err = e.startFleet(ctx, fanoutHosts); err != nil {
			return err
		}
		dir, err := e.fanoutApp(f)
		if err != nil {
			return err
		}
		r := e.kamal(ctx, dir, "setup", "--skip-push", "--version", "v1")
		if r.Err != nil {
			return r.Err
		}
		s.Add(fmt.Sprintf("setup of %d blank hosts", fanoutHosts), "s", []float64{secs(r.Took)}, nil)
		return e.benchFanout(ctx, s, f, dir)
	})
	if f != nil {
		e.closeFleet(f)
	}
	return ctx.Err()
}

func (e *env) startFleet(ctx context.Context, n int) (*harness.Fleet, error) {
	f, err := harness.NewFleet(ctx, n)
	if f != nil {
		e.fleets = append(e.fleets, f)
	}
	if err != nil {
		return nil, fmt.Errorf("start %d harness hosts: %w", n, err)
	}
	return f, nil
}

func (e *env) closeFleet(f *harness.Fleet) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := f.Close(ctx); err != nil {
		e.logf("warning: remove harness hosts: %v", err)
	}
}

// cleanup removes every fleet (Close is idempotent), the images this run
// built and the plugin's sidecar image.
func (e *env) cleanup() {
	for _, f := range e.fleets {
		e.closeFleet(f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if len(e.images.extra) > 0 {
		args := append([]string{"image", "rm", "-f"}, e.images.extra...)
		exec.CommandContext(ctx, "docker", args...).Run() //nolint:errcheck // best effort; some may be gone
	}
	if e.plugin != nil {
		e.plugin.Close(ctx)
	}
}

func machine(ctx context.Context, root string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Output(); err == nil {
		m.DockerVersion = strings.TrimSpace(string(out))
	}
	cmd := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			m.Load1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return m
}

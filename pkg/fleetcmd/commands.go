package fleetcmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/build"
	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/deploy"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/hooks"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
)

// Register plugs the fleet commands into the command tree.
func Register() {
	deployFlags := []cli.Flag{
		&cli.BoolFlag{Name: "skip-push", Aliases: []string{"P"}, Usage: "skip the image build (and the registry push) and use the existing image of --version"},
		&cli.DurationFlag{Name: "lock-wait", Usage: "wait up to this long for the deploy lock instead of failing at once"},
		&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "lock message"},
		&cli.StringFlag{Name: "ship", Usage: "how the app image reaches hosts: registry (push once, hosts pull) or direct (over SSH); default registry when one is configured"},
	}
	command.RegisterFlags("deploy", deployFlags...)
	command.RegisterFlags("redeploy", deployFlags...)
	command.RegisterFlags("setup", deployFlags...)
	command.RegisterFlags("rollback", &cli.DurationFlag{Name: "lock-wait", Usage: "wait up to this long for the deploy lock"})
	command.RegisterFlags("lock acquire", &cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "why the lock is held", Required: true})
	command.Register("deploy", func(ctx context.Context, g *command.Globals, c *cli.Context) error {
		return runDeploy(ctx, g, c, "deploy")
	})
	command.Register("redeploy", func(ctx context.Context, g *command.Globals, c *cli.Context) error {
		return runDeploy(ctx, g, c, "redeploy")
	})
	command.Register("setup", func(ctx context.Context, g *command.Globals, c *cli.Context) error {
		return runDeploy(ctx, g, c, "setup")
	})
	command.Register("rollback", runRollback)
	registerBuild()
	command.Register("lock status", runLockStatus)
	command.Register("lock acquire", runLockAcquire)
	command.Register("lock release", runLockRelease)
}

// appDir is the app root: the directory holding config/.
func appDir(g *command.Globals) string {
	dir := filepath.Dir(filepath.Dir(g.ConfigFile))
	if dir == "" {
		return "."
	}
	return dir
}

func hostsOf(p fleet.Plan) []string {
	return uniqueOf(p.Targets(), func(t fleet.Target) string { return t.Host })
}

func rolesOf(p fleet.Plan) []string {
	return uniqueOf(p.Targets(), func(t fleet.Target) string { return t.Role })
}

// uniqueOf lists key(t) of each target once, in first-seen order.
func uniqueOf(ts []fleet.Target, key func(fleet.Target) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range ts {
		if k := key(t); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func (s *Session) hookRunner() *hooks.Runner {
	dir := s.Cfg.HooksPath
	if dir == "" {
		dir = ".kamal/hooks"
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(appDir(s.G), dir)
	}
	return &hooks.Runner{Dir: dir, Skip: s.G.SkipHooks, Stdout: s.G.Stdout, Stderr: s.G.Stderr}
}

func (s *Session) hookEnv(p fleet.Plan) hooks.Env {
	return hooks.Env{
		Service: s.Cfg.Service, Hosts: hostsOf(p), Roles: rolesOf(p),
		Performer: Performer(), Destination: s.Cfg.Destination,
	}
}

// appBuilder builds the app image with `docker build`.
type appBuilder struct{ s *Session }

func (b appBuilder) Build(ctx context.Context, version string) (string, error) {
	cfg := b.s.Cfg
	image := b.s.ImageRef(version)
	latest := strings.TrimSuffix(image, ":"+version) + ":latest"
	buildCtx := cfg.Builder.Context
	if buildCtx == "" {
		buildCtx = "."
	}
	if !filepath.IsAbs(buildCtx) {
		buildCtx = filepath.Join(appDir(b.s.G), buildCtx)
	}
	opts := build.Options{
		DockerFlags: b.s.G.DockerFlags,
		Context:     buildCtx,
		Dockerfile:  cfg.Builder.Dockerfile,
		Target:      cfg.Builder.Target,
		BuildArgs:   cfg.Builder.Args,
		Tags:        []string{image, latest},
		Labels:      map[string]string{"service": cfg.Service},
	}
	if opts.Dockerfile != "" && !filepath.IsAbs(opts.Dockerfile) {
		opts.Dockerfile = filepath.Join(buildCtx, opts.Dockerfile)
	}
	if b.s.G.Verbose {
		opts.Stdout, opts.Stderr = b.s.G.Stdout, b.s.G.Stderr
	}
	if _, err := build.Build(ctx, opts); err != nil {
		return "", err
	}
	return image, nil
}

func runDeploy(ctx context.Context, g *command.Globals, c *cli.Context, verb string) error {
	s, err := Open(ctx, g)
	if err != nil {
		return err
	}
	defer s.Close()
	plan, err := s.plan()
	if err != nil {
		return err
	}
	version := g.Version
	if version == "" {
		if c.Bool("skip-push") {
			return fmt.Errorf("%s --skip-push needs --version to name the existing image", verb)
		}
		if version, err = build.Version(ctx, appDir(g)); err != nil {
			return err
		}
	}
	mode, err := ShipMode(c.String("ship"), s.Cfg.Registry)
	if err != nil {
		return err
	}
	if err := s.checkRouting(plan, version); err != nil {
		return err
	}
	hosts := hostsOf(plan)
	s.Out.Phase("%s %s %s to %s", verbTitle(verb), s.Cfg.Service, version, strings.Join(hosts, ", "))
	s.Out.Verbose("plan:\n%s", plan)
	hookRunner := s.hookRunner()
	env := s.hookEnv(plan)
	env.Version = version
	if _, err := hookRunner.Run(ctx, "pre-connect", env); err != nil {
		return err
	}
	sh := newShipper(s, hosts)
	defer sh.Close()
	if verb != "redeploy" {
		if err := s.prepareHosts(ctx, hosts); err != nil {
			return err
		}
		if err := s.ensureSidecar(ctx, sh, hosts); err != nil {
			return err
		}
	}
	if verb == "setup" {
		if err := s.bootTraefik(ctx, sh, hosts); err != nil {
			return err
		}
		if err := s.bootAccessories(ctx, sh, s.accessoryNames()); err != nil {
			return err
		}
	}
	sw := &swapper{s: s, version: version, image: s.ImageRef(version)}
	appShip := s.appShipper(mode, sh, hosts, !c.Bool("skip-push"))
	steps := deploy.Steps{
		Lock:    &locker{s: s, wait: c.Duration("lock-wait")},
		Ship:    appShip,
		Hooks:   hookRunner,
		Fleet:   &fleet.Runner{Swapper: &imageIDSwapper{swapper: sw, dockerFlags: g.DockerFlags}, Reporter: reporter{s}, BootWait: s.Cfg.Boot.Wait.D()},
		Audit:   auditor{s},
		Out:     s.Out,
		HookEnv: env,
		Plan:    plan,
		Image:   sw.image,
		Message: c.String("message"),
		Verb:    verb,
	}
	if !c.Bool("skip-push") {
		steps.Build = appBuilder{s}
	}
	if s.Cfg.Migrations != nil && s.Cfg.Migrations.Cmd != "" {
		steps.Migrate = migrator{s}
	}
	rep, err := deploy.Run(ctx, steps, version)
	s.summary(verb, version, rep, shippedBytes(sh, appShip), err)
	return err
}

// imageIDSwapper pins the image ID the sidecar must run, read once after
// the build.
type imageIDSwapper struct {
	*swapper
	dockerFlags []string
	once        sync.Once
}

func (w *imageIDSwapper) Deploy(ctx context.Context, t fleet.Target) error {
	w.once.Do(func() {
		if id, err := build.ImageID(ctx, w.dockerFlags, w.image); err == nil {
			w.imageID = id
		}
	})
	return w.swapper.Deploy(ctx, t)
}

func verbTitle(v string) string {
	switch v {
	case "setup":
		return "Setting up and deploying"
	case "redeploy":
		return "Redeploying"
	case "rollback":
		return "Rolling back"
	}
	return "Deploying"
}

func (s *Session) summary(verb, version string, rep *fleet.Report, shipped int64, err error) {
	var hosts []string
	var d time.Duration
	if rep != nil {
		var ts []fleet.Target
		for _, o := range rep.Outcomes {
			ts = append(ts, o.Target)
		}
		hosts = uniqueOf(ts, func(t fleet.Target) string { return t.Host })
	}
	d = s.Out.Elapsed()
	result := "succeeded"
	if err != nil {
		result = "FAILED"
		if errors.Is(err, context.Canceled) {
			result = "CANCELLED"
		}
	}
	s.Out.Summary("%s of %s %s to %d host(s) %s in %s (shipped %s)", verb, s.Cfg.Service, version, len(hosts), result, d.Round(100*time.Millisecond), humanBytes(shipped))
	if rep != nil && err != nil {
		for _, o := range rep.Outcomes {
			line := fmt.Sprintf("  %s: %s", o.Target, o.Status)
			if o.Err != nil {
				line += ": " + firstLine(o.Err.Error())
			}
			s.Out.Summary("%s", line)
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func runRollback(ctx context.Context, g *command.Globals, c *cli.Context) error {
	s, err := Open(ctx, g)
	if err != nil {
		return err
	}
	defer s.Close()
	plan, err := s.plan()
	if err != nil {
		return err
	}
	version := c.Args().First()
	sw := &swapper{s: s}
	available, err := s.retainedVersions(ctx, plan)
	if err != nil {
		return err
	}
	if version == "" {
		live, err := sw.LiveVersion(ctx, plan.Targets()[0])
		if err != nil {
			return err
		}
		for _, v := range available {
			if v != live {
				version = v
				break
			}
		}
		if version == "" {
			return fmt.Errorf("rollback: no previous version is retained on every host (live: %s)", live)
		}
	} else if !contains(available, version) {
		return fmt.Errorf("rollback: version %s is not retained on every host; available: %s", version, strings.Join(available, ", "))
	}
	hosts := hostsOf(plan)
	s.Out.Phase("Rolling back %s to %s on %s", s.Cfg.Service, version, strings.Join(hosts, ", "))
	lk := &locker{s: s, wait: c.Duration("lock-wait")}
	if err := lk.Acquire(ctx, "rollback to "+version, version); err != nil {
		return fmt.Errorf("acquire deploy lock: %w", err)
	}
	runner := &fleet.Runner{Swapper: sw, Reporter: reporter{s}}
	rep, err := runner.Rollback(ctx, fleet.AllAtOnce(plan.Targets()), version)
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	result := "success"
	if err != nil {
		result = "failed: " + err.Error()
	}
	if aerr := (auditor{s}).Audit(cleanup, "rollback", version, s.Out.Redact(result)); aerr != nil {
		s.Out.Error("warning: write audit log: %v", aerr)
	}
	if rerr := lk.Release(cleanup); rerr != nil {
		err = errors.Join(err, fmt.Errorf("release deploy lock: %w", rerr))
	}
	s.summary("rollback", version, rep, 0, err)
	return err
}

// retainedVersions are the versions every target of the plan holds, newest
// first (by the first target's order).
func (s *Session) retainedVersions(ctx context.Context, plan fleet.Plan) ([]string, error) {
	var common []string
	for i, t := range plan.Targets() {
		cl, err := s.Sidecar(ctx, t.Host)
		if err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, sidecarCallTimeout)
		vs, err := cl.Versions(cctx, s.Role(t.Role))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("list versions of %s: %w", t, err)
		}
		var list []string
		for _, v := range vs.Versions {
			list = append(list, v.Version)
		}
		if i == 0 {
			common = list
			continue
		}
		var keep []string
		for _, v := range common {
			if contains(list, v) {
				keep = append(keep, v)
			}
		}
		common = keep
	}
	return common, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// withPrimarySidecar runs fn with the primary host's sidecar, where the
// deploy lock lives.
func withPrimarySidecar(ctx context.Context, g *command.Globals, fn func(host string, cl *sidecarclient.Client) error) error {
	s, err := Open(ctx, g)
	if err != nil {
		return err
	}
	defer s.Close()
	host := s.PrimaryHost()
	cl, err := s.Sidecar(ctx, host)
	if err != nil {
		return err
	}
	return fn(host, cl)
}

func runLockStatus(ctx context.Context, g *command.Globals, _ *cli.Context) error {
	return withPrimarySidecar(ctx, g, func(host string, cl *sidecarclient.Client) error {
		st, err := cl.Lock(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(g.Stdout, describeLock(host, st))
		return nil
	})
}

func describeLock(host string, st *contract.LockStatus) string {
	if !st.Locked {
		return "There is no deploy lock on " + host
	}
	stale := ""
	if st.Stale {
		stale = " (STALE: release with `docker kamal lock release`)"
	}
	return fmt.Sprintf("Locked by: %s at %s\nVersion: %s\nMessage: %s%s", st.Holder, st.AcquiredAt.Format(time.RFC3339), st.Version, st.Message, stale)
}

func runLockAcquire(ctx context.Context, g *command.Globals, c *cli.Context) error {
	return withPrimarySidecar(ctx, g, func(host string, cl *sidecarclient.Client) error {
		if _, err := cl.AcquireLock(ctx, contract.LockRequest{Holder: Performer(), Message: c.String("message"), Version: g.Version}); err != nil {
			return fmt.Errorf("acquire deploy lock: %w", err)
		}
		fmt.Fprintf(g.Stdout, "Acquired the deploy lock on %s\n", host)
		return nil
	})
}

func runLockRelease(ctx context.Context, g *command.Globals, _ *cli.Context) error {
	return withPrimarySidecar(ctx, g, func(host string, cl *sidecarclient.Client) error {
		// As in Kamal, release breaks the lock whoever holds it.
		if _, err := cl.ReleaseLock(ctx, contract.LockRequest{Holder: Performer(), Force: true}); err != nil {
			return fmt.Errorf("release deploy lock: %w", err)
		}
		fmt.Fprintf(g.Stdout, "Released the deploy lock on %s\n", host)
		return nil
	})
}

package fleetops

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/build"
	"github.com/dockerkamal/docker-kamal/pkg/deploy"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/hooks"
)

// DeployOptions are the flags of setup, deploy and redeploy.
type DeployOptions struct {
	// SkipPush deploys the existing image of --version: no build, no push.
	SkipPush bool
	// LockWait is how long to wait for the deploy lock (0: fail at once).
	LockWait time.Duration
	// Message is the lock message.
	Message string
	// Ship is --ship: ShipDirect, ShipRegistry or "" for the config's default.
	Ship string
}

// The kinds of deploy, as Kamal names them (also the audit action and the
// KAMAL_COMMAND of hooks).
const (
	verbSetup    = "setup"
	verbDeploy   = "deploy"
	verbRedeploy = "redeploy"
	verbRollback = "rollback"
)

// Setup prepares every host (Docker, network, sidecar), boots Traefik and
// the accessories, then deploys.
func (s *Session) Setup(ctx context.Context, o DeployOptions) error {
	return s.deploy(ctx, verbSetup, o)
}

// Deploy makes sure every host has an up-to-date sidecar and deploys the
// app with zero downtime.
func (s *Session) Deploy(ctx context.Context, o DeployOptions) error {
	return s.deploy(ctx, verbDeploy, o)
}

// Redeploy deploys without preparing the hosts.
func (s *Session) Redeploy(ctx context.Context, o DeployOptions) error {
	return s.deploy(ctx, verbRedeploy, o)
}

func (s *Session) deploy(ctx context.Context, verb string, o DeployOptions) error {
	plan, err := s.plan()
	if err != nil {
		return err
	}
	version, err := s.deployVersion(ctx, verb, o.SkipPush)
	if err != nil {
		return err
	}
	mode, err := shipMode(o.Ship, s.Cfg.Registry)
	if err != nil {
		return err
	}
	if err := s.checkRouting(plan, version); err != nil {
		return err
	}
	hosts := hostsOf(plan.Targets())
	s.out.Phase("%s %s %s to %s", verbTitle(verb), s.Cfg.Service, version, strings.Join(hosts, ", "))
	s.out.Verbose("plan:\n%s", plan)
	s.setHookVersion(version)
	if err := s.preConnect(ctx); err != nil {
		return s.failedEarly(ctx, verb, version, hosts, err)
	}
	sh := newShipper(s, hosts)
	defer sh.Close()
	if o.SkipPush && mode == ShipDirect && build.ImageExists(ctx, s.Opts.DockerFlags, s.imageRef(version)) {
		// The image is known now: its local save overlaps host prep and the lock.
		sh.saveEarly(ctx, s.imageRef(version))
	}
	if err := s.prepareFor(ctx, verb, sh, hosts); err != nil {
		return s.failedEarly(ctx, verb, version, hosts, err)
	}
	if mode == ShipDirect {
		// After the sidecar's ship, which would have used the listings.
		sh.prefetchHosts(ctx)
	}
	steps := s.deploySteps(verb, o, plan, version, mode, sh, hosts)
	if err := s.deployHooks(ctx, &steps, verb, plan, sh, hosts); err != nil {
		return s.failedEarly(ctx, verb, version, hosts, err)
	}
	app := steps.Ship
	steps.Ship = phaseShipper{app}
	if steps.Migrate != nil {
		steps.Migrate = phaseMigrator{steps.Migrate}
	}
	rep, err := deploy.Run(ctx, steps, version)
	err = describeLost(err, hosts, rep, version)
	err = interrupted(ctx, err)
	s.summary(verb, version, hosts, rep, shippedBytes(sh, app), err)
	return err
}

// deployVersion is --version, else the git version of the app (which a
// deploy without a build cannot use: nothing built it).
func (s *Session) deployVersion(ctx context.Context, verb string, skipPush bool) (string, error) {
	if s.Opts.Version != "" {
		return s.Opts.Version, nil
	}
	if skipPush {
		return "", fmt.Errorf("%s --skip-push needs --version to name the existing image", verb)
	}
	return build.Version(ctx, s.appDir())
}

// prepareFor readies the hosts as verb needs: a redeploy trusts them, a
// deploy makes sure of Docker, the network and the sidecar, and a setup
// boots Traefik and the accessories too.
func (s *Session) prepareFor(ctx context.Context, verb string, sh *shipper, hosts []string) error {
	if verb == verbRedeploy {
		return nil
	}
	if err := s.prepareHosts(ctx, hosts); err != nil {
		return err
	}
	if verb == verbSetup {
		s.shipSetupImagesEarly(ctx, sh, hosts)
	}
	if err := s.ensureSidecar(ctx, sh, hosts); err != nil {
		return err
	}
	if verb != verbSetup {
		return nil
	}
	// Kamal's docker-setup moment: Docker is ready on every host. The proxy
	// and the accessories boot after pre-deploy (setupBoot).
	return s.runHook(ctx, "docker-setup", hosts, false)
}

// deploySteps wires pkg/deploy's sequence to this session (hooks aside).
func (s *Session) deploySteps(verb string, o DeployOptions, plan fleet.Plan, version, mode string, sh *shipper, hosts []string) deploy.Steps {
	d := &sidecarDeployer{s: s, version: version, image: s.imageRef(version)}
	steps := deploy.Steps{
		Lock:    &locker{s: s, wait: o.LockWait, command: verb},
		Ship:    s.appShipper(mode, sh, hosts, !o.SkipPush),
		Fleet:   &fleet.Runner{Deployer: &pinnedImageDeployer{sidecarDeployer: d, dockerFlags: s.Opts.DockerFlags}, Reporter: reporter{s}, BootWait: s.Cfg.Boot.Wait.D()},
		Audit:   auditor{s},
		Out:     s.out,
		Plan:    plan,
		Image:   d.image,
		Message: o.Message,
		Verb:    verb,
	}
	if !o.SkipPush {
		steps.Build = appBuilder{s}
	}
	if s.Cfg.HasAssets() {
		steps.Assets = assetPreparer{s: s, plan: plan, image: d.image}
	}
	if s.Cfg.Migrations != nil && s.Cfg.Migrations.Cmd != "" {
		steps.Migrate = migrator{s}
	}
	return steps
}

// appDir is the app root: the directory holding config/.
func (s *Session) appDir() string {
	dir := filepath.Dir(filepath.Dir(s.Opts.ConfigFile))
	if dir == "" {
		return "."
	}
	return dir
}

func (s *Session) hookRunner() *hooks.Runner {
	dir := s.Cfg.HooksPath
	if dir == "" {
		dir = ".kamal/hooks"
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(s.appDir(), dir)
	}
	return &hooks.Runner{Dir: dir, Skip: s.Opts.SkipHooks, Stdout: s.Opts.Stdout, Stderr: s.Opts.Stderr, WorkDir: s.appDir(), Quiet: s.hookQuiet}
}

func verbTitle(v string) string {
	switch v {
	case verbSetup:
		return "Setting up and deploying"
	case verbRedeploy:
		return "Redeploying"
	case verbRollback:
		return "Rolling back"
	}
	return "Deploying"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

package fleetops

// Kamal's hooks at Kamal's moments. The moments (Kamal's run_hook calls):
//
//	pre-connect        once, before the command's first SSH connection
//	docker-setup       setup (and server bootstrap), once Docker is ready
//	pre-build          before the image is built
//	pre-deploy         deploy, redeploy, setup, rollback: after the build
//	                   and ship, before anything on the hosts changes
//	pre/post-app-boot  around each boot group of a deploy or rollback
//	post-deploy        after the deploy, with KAMAL_RUNTIME
//	pre/post-proxy-reboot  around proxy reboot (per host with --rolling)
//
// Each gets Kamal's KAMAL_* variables; pre-connect, pre-deploy and
// post-deploy also get the secrets, as Kamal gives them.

import (
	"context"
	"os/exec"
	"os/user"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/build"
	"github.com/dockerkamal/docker-kamal/pkg/deploy"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/hooks"
)

// performerTimeout bounds asking git for the user's email.
const performerTimeout = 5 * time.Second

// baseHookEnv is Kamal's tags and run_hook details for hosts: service,
// destination, version, performer, command, subcommand, and the roles
// only when --roles selected them.
func (s *Session) baseHookEnv(ctx context.Context, hosts []string) hooks.Env {
	env := hooks.Env{
		Service: s.Cfg.Service, Destination: s.Cfg.Destination, Hosts: hosts,
		Version: s.hookVersion(ctx), Performer: s.hookPerformer(ctx),
		Command: s.Opts.Command, Subcommand: s.Opts.Subcommand,
	}
	if len(s.Opts.Filter.Roles) > 0 {
		if sel, err := s.Cfg.Select(s.Opts.Filter); err == nil {
			for _, r := range sel.Roles {
				env.Roles = append(env.Roles, r.Name)
			}
		}
	}
	return env
}

// hookVersion is Kamal's config.version: --version, the deploy's version
// once known, else the git version of the app ("" outside git).
func (s *Session) hookVersion(ctx context.Context) string {
	if s.Opts.Version != "" {
		return s.Opts.Version
	}
	s.mu.Lock()
	v := s.version
	s.mu.Unlock()
	if v != "" {
		return v
	}
	v, _ = build.Version(ctx, s.appDir()) // outside git there is no version to give
	return v
}

// setHookVersion records the version a deploy acts on, for later hooks.
func (s *Session) setHookVersion(v string) {
	s.mu.Lock()
	s.version = v
	s.mu.Unlock()
}

// hookPerformer is Kamal's performer: git's user.email, else the login.
func (s *Session) hookPerformer(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, performerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "config", "user.email")
	cmd.Dir = s.appDir()
	if out, err := cmd.Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		return strings.TrimSpace(string(out))
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// withSecrets adds the secrets files' values to env, for the hooks Kamal
// gives them to.
func (s *Session) withSecrets(ctx context.Context, env hooks.Env) (hooks.Env, error) {
	vals, err := s.Cfg.HookSecrets(ctx)
	if err != nil {
		return env, err
	}
	env.Secrets = vals
	return env, nil
}

// preConnect runs the pre-connect hook once per command, before the first
// connection (the transport calls it before its first dial).
func (s *Session) preConnect(ctx context.Context) error {
	s.preConnectOnce.Do(func() {
		hosts, err := s.serverHosts()
		if err != nil {
			s.preConnectErr = err
			return
		}
		env, err := s.withSecrets(ctx, s.baseHookEnv(ctx, hosts))
		if err != nil {
			s.preConnectErr = err
			return
		}
		_, s.preConnectErr = s.hookRunner().Run(ctx, "pre-connect", env)
	})
	return s.preConnectErr
}

// runHook runs hook name for hosts with Kamal's variables.
func (s *Session) runHook(ctx context.Context, name string, hosts []string, lock bool) error {
	env := s.baseHookEnv(ctx, hosts)
	env.Lock = boolText(lock)
	_, err := s.hookRunner().Run(ctx, name, env)
	return err
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// appBootHooks run pre-app-boot and post-app-boot around each boot group.
type appBootHooks struct {
	s   *Session
	env hooks.Env
}

func (h appBootHooks) BeforeBoot(ctx context.Context, hosts []string) error {
	return h.run(ctx, "pre-app-boot", hosts)
}

func (h appBootHooks) AfterBoot(ctx context.Context, hosts []string) error {
	return h.run(ctx, "post-app-boot", hosts)
}

func (h appBootHooks) run(ctx context.Context, name string, hosts []string) error {
	env := h.env
	env.Hosts, env.Secrets, env.Runtime = hosts, nil, 0
	_, err := h.s.hookRunner().Run(ctx, name, env)
	return err
}

// deployHooks wires the hooks of a deploy into steps: the runner and the
// variables of pre-build, pre-deploy and post-deploy (with the secrets),
// the app-boot hooks of the fleet, and, for setup, the proxy and accessory
// boot after pre-deploy.
func (s *Session) deployHooks(ctx context.Context, steps *deploy.Steps, verb string, plan fleet.Plan, sh *shipper, hosts []string) error {
	env, err := s.withSecrets(ctx, s.baseHookEnv(ctx, hostsOf(plan.Targets())))
	if err != nil {
		return err
	}
	if env.Command == "" {
		env.Command = verb
	}
	steps.Hooks, steps.HookEnv = s.hookRunner(), env
	bootEnv := env
	bootEnv.Lock = "true"
	steps.Fleet.Hooks = appBootHooks{s: s, env: bootEnv}
	if verb == verbSetup {
		steps.Prepare = setupBoot{s: s, sh: sh, hosts: hosts}
	}
	return nil
}

// setupBoot boots Traefik and the accessories (setup, after pre-deploy).
type setupBoot struct {
	s     *Session
	sh    *shipper
	hosts []string
}

func (b setupBoot) Prepare(ctx context.Context) error {
	if err := b.s.bootTraefik(ctx, b.sh, b.hosts); err != nil {
		return err
	}
	return b.s.bootAccessories(ctx, b.sh)
}

// aroundProxyReboot runs pre-proxy-reboot, fn, then post-proxy-reboot for
// hosts, as Kamal does around each reboot group.
func (s *Session) aroundProxyReboot(ctx context.Context, hosts []string, fn func() error) error {
	// Kamal connects (taking the lock) before its first reboot hook.
	if err := s.preConnect(ctx); err != nil {
		return err
	}
	if err := s.runHook(ctx, "pre-proxy-reboot", hosts, false); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	return s.runHook(ctx, "post-proxy-reboot", hosts, false)
}

// rollbackWithHooks returns the fleet to version between pre-deploy and
// post-deploy, with the app-boot hooks around the boot, as Kamal's
// rollback (whose KAMAL_COMMAND is rollback).
func (s *Session) rollbackWithHooks(ctx context.Context, plan fleet.Plan, version string) (*fleet.Report, error) {
	s.setHookVersion(version)
	env, err := s.withSecrets(ctx, s.baseHookEnv(ctx, hostsOf(plan.Targets())))
	if err != nil {
		return nil, err
	}
	env.Version, env.Lock = version, "true"
	run := s.hookRunner()
	if _, err := run.Run(ctx, "pre-deploy", env); err != nil {
		return nil, err
	}
	if err := s.prepareRollbackAssets(ctx, plan, version); err != nil {
		return nil, err
	}
	runner := &fleet.Runner{Deployer: &sidecarDeployer{s: s}, Reporter: reporter{s}, Hooks: appBootHooks{s: s, env: env}}
	rep, err := runner.Rollback(ctx, fleet.AllAtOnce(plan.Targets()), version)
	if err != nil {
		return rep, err
	}
	env.Runtime = s.out.Elapsed()
	_, err = run.Run(ctx, "post-deploy", env)
	return rep, err
}

// hookQuiet is Kamal's hooks_output: -q hides every hook's output and -v
// shows it; otherwise hooks_output (per hook, or "*" for all) decides, and
// a hook it does not name shows its output.
func (s *Session) hookQuiet(name string) bool {
	switch {
	case s.Opts.Quiet:
		return true
	case s.Opts.Verbose:
		return false
	}
	level, ok := s.Cfg.HooksOutput[name]
	if !ok {
		level = s.Cfg.HooksOutput["*"]
	}
	return level == "quiet"
}

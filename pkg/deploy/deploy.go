// Package deploy is the sequence of `docker kamal deploy`: lock, build, ship,
// hooks, migrations once on the primary, the fleet swap, audit, unlock. Each
// step is a small interface so the sequence (and every early exit) is unit
// tested with fakes; the real implementations are wired in pkg/fleetops.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/hooks"
	"github.com/dockerkamal/docker-kamal/pkg/output"
)

// Locker holds the deploy lock on the primary host.
type Locker interface {
	Acquire(ctx context.Context, message, version string) error
	Release(ctx context.Context) error
}

// Builder produces the image to deploy.
type Builder interface {
	Build(ctx context.Context, version string) (image string, err error)
}

// Shipper puts the image on every host that lacks it.
type Shipper interface {
	Ship(ctx context.Context, image string) error
}

// Migrator runs the migrations command once, on the primary host.
type Migrator interface {
	Migrate(ctx context.Context, image, version string) error
}

// AssetPreparer bridges asset_path on every host before the first swap.
type AssetPreparer interface {
	Prepare(ctx context.Context, version string) error
}

// Auditor appends an audit line on every host.
type Auditor interface {
	Audit(ctx context.Context, action, version, result string) error
}

// HookRunner runs a named hook.
type HookRunner interface {
	Run(ctx context.Context, name string, env hooks.Env) (bool, error)
}

// Preparer readies the hosts once pre-deploy has passed (setup boots the
// proxy and the accessories there, as Kamal does after pre-deploy).
type Preparer interface {
	Prepare(ctx context.Context) error
}

// Steps are the parts of a deploy. Nil Builder skips the build
// (--skip-push), nil Migrator means no migrations configured.
type Steps struct {
	Lock     Locker
	Build    Builder
	Ship     Shipper
	Hooks    HookRunner
	Migrate  Migrator
	Prepare  Preparer      // nil: nothing to ready after pre-deploy
	Assets   AssetPreparer // nil when no role has an asset path
	Fleet    *fleet.Runner
	Audit    Auditor
	Out      *output.Printer
	HookEnv  hooks.Env
	Plan     fleet.Plan
	Image    string // used when Build is nil
	Message  string // lock message
	Verb     string // "deploy" or "redeploy"
	SkipLock bool   // the caller already holds the lock
}

// Timeouts of the cleanup steps that must run even after Ctrl-C.
const (
	releaseTimeout = 30 * time.Second
	auditTimeout   = 30 * time.Second
)

// Run performs the deploy of version. The lock is always released and the
// fleet always left on one version, even when ctx is cancelled.
func Run(ctx context.Context, s Steps, version string) (rep *fleet.Report, err error) {
	if s.Verb == "" {
		s.Verb = "deploy"
	}
	env := s.HookEnv
	env.Version = version
	if env.Command == "" {
		env.Command = s.Verb
	}
	env.Lock = "true" // held from here on, by us or by the caller
	if !s.SkipLock {
		if err := s.lock(ctx, version); err != nil {
			return nil, err
		}
		defer func() {
			if uerr := s.unlock(ctx); uerr != nil {
				err = errors.Join(err, uerr)
			}
		}()
	}
	defer func() { s.audit(ctx, version, err) }()
	image, err := s.build(ctx, env, version)
	if err != nil {
		return nil, err
	}
	if err := s.ship(ctx, image); err != nil {
		return nil, err
	}
	if _, err := s.Hooks.Run(ctx, "pre-deploy", env); err != nil {
		return nil, err
	}
	if s.Prepare != nil {
		if err := s.Prepare.Prepare(ctx); err != nil {
			return nil, err
		}
	}
	if s.Assets != nil {
		if err := s.Assets.Prepare(ctx, version); err != nil {
			return nil, fmt.Errorf("prepare assets: %w", err)
		}
	}
	if err := s.migrate(ctx, image, version); err != nil {
		return nil, err
	}
	s.Out.Phase("Swap to %s", version)
	if rep, err = s.Fleet.Deploy(ctx, s.Plan, version); err != nil {
		return rep, err
	}
	env.Runtime = s.Out.Elapsed()
	if _, err := s.Hooks.Run(ctx, "post-deploy", env); err != nil {
		return rep, err
	}
	return rep, nil
}

func (s Steps) lock(ctx context.Context, version string) error {
	t0 := time.Now()
	if err := s.Lock.Acquire(ctx, s.Message, version); err != nil {
		return fmt.Errorf("acquire deploy lock: %w", err)
	}
	s.Out.Step("", "lock", "acquired", time.Since(t0))
	return nil
}

// unlock releases the lock on a fresh context: a cancelled deploy must not
// leave it held.
func (s Steps) unlock(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := s.Lock.Release(rctx); err != nil {
		return fmt.Errorf("release deploy lock: %w", err)
	}
	s.Out.Step("", "lock", "released", 0)
	return nil
}

// audit records the deploy's result on the hosts; failing to is a
// warning, not the deploy's failure.
func (s Steps) audit(ctx context.Context, version string, err error) {
	if s.Audit == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "failed: " + err.Error()
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if aerr := s.Audit.Audit(actx, s.Verb, version, s.Out.Redact(result)); aerr != nil {
		s.Out.Error("warning: write audit log: %v", aerr)
	}
}

// build runs the pre-build hook and builds the image; without a Builder
// the image is s.Image.
func (s Steps) build(ctx context.Context, env hooks.Env, version string) (string, error) {
	if s.Build == nil {
		return s.Image, nil
	}
	env.Secrets = nil // Kamal gives pre-build no secrets
	if _, err := s.Hooks.Run(ctx, "pre-build", env); err != nil {
		return "", err
	}
	t0 := time.Now()
	s.Out.Phase("Build %s", version)
	image, err := s.Build.Build(ctx, version)
	if err != nil {
		return "", err
	}
	s.Out.Step("", "build "+image, "done", time.Since(t0))
	return image, nil
}

func (s Steps) ship(ctx context.Context, image string) error {
	t0 := time.Now()
	s.Out.Phase("Ship %s", image)
	if err := s.Ship.Ship(ctx, image); err != nil {
		return err
	}
	s.Out.Step("", "ship", "done", time.Since(t0))
	return nil
}

// migrate runs the migrations once on the primary host, before any swap.
func (s Steps) migrate(ctx context.Context, image, version string) error {
	if s.Migrate == nil {
		return nil
	}
	t0 := time.Now()
	s.Out.Phase("Migrate on the primary host")
	if err := s.Migrate.Migrate(ctx, image, version); err != nil {
		return fmt.Errorf("migrations failed, nothing was swapped: %w", err)
	}
	s.Out.Step("", "migrations", "done", time.Since(t0))
	return nil
}

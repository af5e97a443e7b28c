// Package deploy is the sequence of `docker kamal deploy`: lock, build, ship,
// hooks, migrations once on the primary, the fleet swap, audit, unlock. Each
// step is a small interface so the sequence (and every early exit) is unit
// tested with fakes; the real implementations are wired in pkg/app.
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

// Auditor appends an audit line on every host.
type Auditor interface {
	Audit(ctx context.Context, action, version, result string) error
}

// HookRunner runs a named hook.
type HookRunner interface {
	Run(ctx context.Context, name string, env hooks.Env) (bool, error)
}

// Steps are the parts of a deploy. Nil Builder skips the build
// (--skip-push), nil Migrator means no migrations configured.
type Steps struct {
	Lock     Locker
	Build    Builder
	Ship     Shipper
	Hooks    HookRunner
	Migrate  Migrator
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
	out := s.Out
	verb := s.Verb
	if verb == "" {
		verb = "deploy"
	}
	env := s.HookEnv
	env.Version = version
	env.Command = verb
	if !s.SkipLock {
		t0 := time.Now()
		if err := s.Lock.Acquire(ctx, s.Message, version); err != nil {
			return nil, fmt.Errorf("acquire deploy lock: %w", err)
		}
		out.Step("", "lock", "acquired", time.Since(t0))
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			defer cancel()
			if rerr := s.Lock.Release(rctx); rerr != nil {
				err = errors.Join(err, fmt.Errorf("release deploy lock: %w", rerr))
				return
			}
			out.Step("", "lock", "released", 0)
		}()
	}
	defer func() {
		result := "success"
		if err != nil {
			result = "failed: " + err.Error()
		}
		if s.Audit == nil {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
		defer cancel()
		if aerr := s.Audit.Audit(actx, verb, version, out.Redact(result)); aerr != nil {
			out.Error("warning: write audit log: %v", aerr)
		}
	}()

	image := s.Image
	if s.Build != nil {
		if _, err := s.Hooks.Run(ctx, "pre-build", env); err != nil {
			return nil, err
		}
		t0 := time.Now()
		out.Phase("Build %s", version)
		if image, err = s.Build.Build(ctx, version); err != nil {
			return nil, err
		}
		out.Step("", "build "+image, "done", time.Since(t0))
	}
	t0 := time.Now()
	out.Phase("Ship %s", image)
	if err := s.Ship.Ship(ctx, image); err != nil {
		return nil, err
	}
	out.Step("", "ship", "done", time.Since(t0))

	if _, err := s.Hooks.Run(ctx, "pre-deploy", env); err != nil {
		return nil, err
	}
	if s.Migrate != nil {
		t0 := time.Now()
		out.Phase("Migrate on the primary host")
		if err := s.Migrate.Migrate(ctx, image, version); err != nil {
			return nil, fmt.Errorf("migrations failed, nothing was swapped: %w", err)
		}
		out.Step("", "migrations", "done", time.Since(t0))
	}
	out.Phase("Swap to %s", version)
	rep, err = s.Fleet.Deploy(ctx, s.Plan, version)
	if err != nil {
		return rep, err
	}
	env.Runtime = out.Elapsed()
	if _, err := s.Hooks.Run(ctx, "post-deploy", env); err != nil {
		return rep, err
	}
	return rep, nil
}

package fleetops

import (
	"context"
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/build"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
)

// BuildDeliver builds the app image of --version or the git version and
// puts it on the selected hosts (ship is --ship).
func (s *Session) BuildDeliver(ctx context.Context, ship string) error {
	return s.build(ctx, true, true, ship)
}

// BuildPush builds the app image and, with a registry, pushes it; the
// hosts get it later (build pull, or the deploy).
func (s *Session) BuildPush(ctx context.Context) error {
	return s.build(ctx, true, false, "")
}

// BuildPull puts the already built app image on the selected hosts.
func (s *Session) BuildPull(ctx context.Context, ship string) error {
	return s.build(ctx, false, true, ship)
}

// build is Kamal's split of a deploy's first half: build the image, put it
// where the hosts get it (registry or direct), and have the hosts hold it.
func (s *Session) build(ctx context.Context, doBuild, deliver bool, ship string) error {
	version := s.Opts.Version
	if version == "" {
		var err error
		if version, err = build.Version(ctx, s.appDir()); err != nil {
			return err
		}
	}
	image := s.imageRef(version)
	mode, err := shipMode(ship, s.Cfg.Registry)
	if err != nil {
		return err
	}
	plan, err := s.plan()
	if err != nil {
		return err
	}
	hosts := hostsOf(plan.Targets())
	if doBuild {
		if image, err = s.buildImage(ctx, plan, version); err != nil {
			return err
		}
		if mode == ShipRegistry && !deliver {
			// push only: hosts pull later (build pull, or the deploy).
			return newRegistryShipper(s, nil, true).Ship(ctx, image)
		}
	}
	if !deliver {
		return nil
	}
	if !doBuild && mode == ShipDirect {
		if err := s.checkBuilt(ctx, image); err != nil {
			return err
		}
	}
	sh := newShipper(s, hosts)
	defer sh.Close()
	t0 := time.Now()
	if err := s.appShipper(mode, sh, hosts, doBuild).Ship(ctx, image); err != nil {
		return err
	}
	s.out.Summary("%s is on %d host(s) in %s", image, len(hosts), time.Since(t0).Round(100*time.Millisecond))
	return nil
}

// buildImage runs the pre-build hook and builds the app image of version.
func (s *Session) buildImage(ctx context.Context, plan fleet.Plan, version string) (string, error) {
	// Kamal runs pre-connect before the build (a remote builder or the
	// pre-build hook may need it).
	if err := s.preConnect(ctx); err != nil {
		return "", err
	}
	env := s.baseHookEnv(ctx, hostsOf(plan.Targets()))
	env.Version = version
	if _, err := s.hookRunner().Run(ctx, "pre-build", env); err != nil {
		return "", err
	}
	t0 := time.Now()
	image, err := (appBuilder{s}).Build(ctx, version)
	if err != nil {
		return "", err
	}
	s.out.Step("", "build "+image, "done", time.Since(t0))
	return image, nil
}

// checkBuilt fails unless the engine that builds the app (the local one, or
// the remote builder's) holds image.
func (s *Session) checkBuilt(ctx context.Context, image string) error {
	flags, err := s.appEngine(ctx)
	if err != nil {
		return err
	}
	if !build.ImageExists(ctx, flags, image) {
		return fmt.Errorf("build pull: %s is not in the builder's engine; build it first (docker kamal build push) or pass --version", image)
	}
	return nil
}

package fleetcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/build"
	"github.com/dockerkamal/docker-kamal/pkg/command"
)

// registerBuild wires `build deliver|push|pull`, Kamal's split of a
// deploy's first half: build the image, put it where the hosts get it
// (registry or direct), and have the hosts hold it.
func registerBuild() {
	ship := &cli.StringFlag{Name: "ship", Usage: "how images reach hosts: direct (over SSH, only missing layers) or registry (push once, hosts pull); default registry when configured"}
	command.RegisterFlags("build deliver", ship)
	command.RegisterFlags("build pull", ship)
	command.Register("build deliver", func(ctx context.Context, g *command.Globals, c *cli.Context) error {
		return runBuild(ctx, g, c, true, true)
	})
	command.Register("build push", func(ctx context.Context, g *command.Globals, c *cli.Context) error {
		return runBuild(ctx, g, c, true, false)
	})
	command.Register("build pull", func(ctx context.Context, g *command.Globals, c *cli.Context) error {
		return runBuild(ctx, g, c, false, true)
	})
}

// runBuild builds (and, with a registry, pushes) the image of --version or
// the git version, and ships it to the selected hosts when deliver is set.
func runBuild(ctx context.Context, g *command.Globals, c *cli.Context, doBuild, deliver bool) error {
	s, err := Open(ctx, g)
	if err != nil {
		return err
	}
	defer s.Close()
	version := g.Version
	if version == "" {
		if version, err = build.Version(ctx, appDir(g)); err != nil {
			return err
		}
	}
	image := s.ImageRef(version)
	mode, err := ShipMode(c.String("ship"), s.Cfg.Registry)
	if err != nil {
		return err
	}
	plan, err := s.plan()
	if err != nil {
		return err
	}
	hosts := hostsOf(plan)
	if doBuild {
		env := s.hookEnv(plan)
		env.Version, env.Command, env.Subcommand = version, "build", "push"
		if _, err := s.hookRunner().Run(ctx, "pre-build", env); err != nil {
			return err
		}
		t0 := time.Now()
		if image, err = (appBuilder{s}).Build(ctx, version); err != nil {
			return err
		}
		s.Out.Step("", "build "+image, "done", time.Since(t0))
		if mode == ShipRegistry && !deliver {
			// push only: hosts pull later (build pull, or the deploy).
			return newRegistryShipper(s, nil, true).Ship(ctx, image)
		}
	}
	if !deliver {
		return nil
	}
	if !doBuild && !localImageExists(ctx, g.DockerFlags, image) && mode == ShipDirect {
		return fmt.Errorf("build pull: %s is not in the local engine; build it first (docker kamal build push) or pass --version", image)
	}
	sh := newShipper(s, hosts)
	defer sh.Close()
	t0 := time.Now()
	if err := s.appShipper(mode, sh, hosts, doBuild).Ship(ctx, image); err != nil {
		return err
	}
	s.Out.Summary("%s is on %d host(s) in %s", image, len(hosts), time.Since(t0).Round(100*time.Millisecond))
	return nil
}

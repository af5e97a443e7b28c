package fleetcmd

import (
	"context"
	"errors"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/fleetops"
)

func auditCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:  "audit",
		Usage: "Show the merged audit log of the hosts",
		Flags: []cli.Flag{jsonFlag(),
			&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: fleetops.DefaultAuditLines, Usage: "entries to read from each host"}},
		Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
			return s.Audit(ctx, c.Int("lines"), c.Bool("json"))
		}),
	}
}

func pruneCommand() *cmdline.Command {
	retain := func() cli.Flag {
		return &cli.IntFlag{Name: "retain", Usage: "stopped containers to keep per role (default: retain_containers, else 5)"}
	}
	retainOf := func(s *fleetops.Session, c *cli.Context) int {
		if c.IsSet("retain") {
			return c.Int("retain")
		}
		return s.DefaultRetain()
	}
	return &cmdline.Command{
		Name:  "prune",
		Usage: "Prune old application images and containers",
		Subcommands: []*cmdline.Command{
			{Name: "all", Usage: "Prune unused images and stopped containers", Flags: []cli.Flag{retain()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return errors.Join(s.PruneContainers(ctx, retainOf(s, c)), s.PruneImages(ctx))
				})},
			{Name: "images", Usage: "Prune unused images",
				Run: withSession(func(ctx context.Context, s *fleetops.Session, _ *cli.Context) error {
					return s.PruneImages(ctx)
				})},
			{Name: "containers", Usage: "Prune all stopped containers except the retained ones", Flags: []cli.Flag{retain()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.PruneContainers(ctx, retainOf(s, c))
				})},
		},
	}
}

func serverCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:  "server",
		Usage: "Bootstrap servers with Docker and run commands on them",
		Subcommands: []*cmdline.Command{
			{Name: "exec", Usage: "Run a command on the servers", Args: "CMD", FreeText: true,
				Flags: []cli.Flag{&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "run interactively with a terminal (first selected host only)"}},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return exitCode(s.ServerExec(ctx, strings.Join(c.Args().Slice(), " "), c.Bool("interactive")))
				})},
			{Name: "bootstrap", Usage: "Install Docker on the servers",
				Run: withSession(func(ctx context.Context, s *fleetops.Session, _ *cli.Context) error {
					return s.ServerBootstrap(ctx)
				})},
		},
	}
}

func registryCommand() *cmdline.Command {
	flags := func() []cli.Flag {
		return []cli.Flag{
			&cli.BoolFlag{Name: "skip-local", Aliases: []string{"L"}, Usage: "skip the local docker"},
			&cli.BoolFlag{Name: "skip-remote", Aliases: []string{"R"}, Usage: "skip the hosts"},
		}
	}
	return &cmdline.Command{
		Name:  "registry",
		Usage: "Log in and out of the image registry",
		Subcommands: []*cmdline.Command{
			{Name: "login", Usage: "Log in to the registry locally and remotely", Flags: flags(),
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.RegistryLogin(ctx, c.Bool("skip-local"), c.Bool("skip-remote"))
				})},
			{Name: "logout", Usage: "Log out of the registry locally and remotely", Flags: flags(),
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.RegistryLogout(ctx, c.Bool("skip-local"), c.Bool("skip-remote"))
				})},
		},
	}
}

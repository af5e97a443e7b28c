package fleetcmd

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/fleetops"
)

// deployCommand is setup, deploy or redeploy: run does the kind of deploy.
func deployCommand(name, usage string, run func(*fleetops.Session, context.Context, fleetops.DeployOptions) error) *cmdline.Command {
	return &cmdline.Command{
		Name:  name,
		Usage: usage,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "skip-push", Aliases: []string{"P"}, Usage: "skip the image build (and the registry push) and use the existing image of --version"},
			&cli.DurationFlag{Name: "lock-wait", Usage: "wait up to this long for the deploy lock instead of failing at once"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "lock message"},
			&cli.StringFlag{Name: "ship", Usage: "how the app image reaches hosts: registry (push once, hosts pull) or direct (over SSH); default registry when one is configured"},
			noCacheFlag(),
		},
		Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
			s.Opts.NoCache = c.Bool("no-cache")
			return run(s, ctx, fleetops.DeployOptions{
				SkipPush: c.Bool("skip-push"), LockWait: c.Duration("lock-wait"),
				Message: c.String("message"), Ship: c.String("ship"),
			})
		}),
	}
}

func rollbackCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:  "rollback",
		Usage: "Roll the fleet back to a retained version (default: the previous one)",
		Args:  "[VERSION]",
		Flags: []cli.Flag{lockWaitFlag()},
		Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
			return s.Rollback(ctx, c.Args().First(), c.Duration("lock-wait"))
		}),
	}
}

// buildCommand is Kamal's split of a deploy's first half: build the image,
// put it where the hosts get it (registry or direct), and have the hosts
// hold it.
func buildCommand() *cmdline.Command {
	ship := func() cli.Flag {
		return &cli.StringFlag{Name: "ship", Usage: "how images reach hosts: direct (over SSH, only missing layers) or registry (push once, hosts pull); default registry when configured"}
	}
	return &cmdline.Command{
		Name:  "build",
		Usage: "Build the app image",
		Subcommands: []*cmdline.Command{
			{Name: "deliver", Usage: "Build and ship the image", Flags: []cli.Flag{ship(), noCacheFlag()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					s.Opts.NoCache = c.Bool("no-cache")
					return s.BuildDeliver(ctx, c.String("ship"))
				})},
			{Name: "push", Usage: "Build and push the image", Flags: []cli.Flag{noCacheFlag()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					s.Opts.NoCache = c.Bool("no-cache")
					return s.BuildPush(ctx)
				})},
			{Name: "pull", Usage: "Ship the image to the hosts", Flags: []cli.Flag{ship()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.BuildPull(ctx, c.String("ship"))
				})},
		},
	}
}

func lockCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:  "lock",
		Usage: "Manage the deploy lock",
		Subcommands: []*cmdline.Command{
			{Name: "status", Usage: "Report the lock status",
				Run: withSession(func(ctx context.Context, s *fleetops.Session, _ *cli.Context) error {
					return s.LockStatus(ctx)
				})},
			{Name: "acquire", Usage: "Acquire the deploy lock",
				Flags: []cli.Flag{&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "why the lock is held", Required: true}},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.AcquireLock(ctx, c.String("message"))
				})},
			{Name: "release", Usage: "Release the deploy lock",
				Run: withSession(func(ctx context.Context, s *fleetops.Session, _ *cli.Context) error {
					return s.ReleaseLock(ctx)
				})},
		},
	}
}

func noCacheFlag() cli.Flag {
	return &cli.BoolFlag{Name: "no-cache", Usage: "build the image without BuildKit's cache (every step runs again)"}
}

func lockWaitFlag() cli.Flag {
	return &cli.DurationFlag{Name: "lock-wait", Usage: "wait up to this long for the deploy lock"}
}

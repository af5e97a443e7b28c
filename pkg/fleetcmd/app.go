package fleetcmd

import (
	"context"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/fleetops"
)

func appCommand() *cmdline.Command {
	containers := withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
		return s.AppContainers(ctx, c.Bool("json"))
	})
	return &cmdline.Command{
		Name:  "app",
		Usage: "Manage the application",
		Subcommands: []*cmdline.Command{
			{Name: "boot", Usage: "Boot the app on the servers", Flags: []cli.Flag{lockWaitFlag()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.AppBoot(ctx, c.Duration("lock-wait"))
				})},
			{Name: "start", Usage: "Start the existing app container",
				Run: withSession(func(ctx context.Context, s *fleetops.Session, _ *cli.Context) error { return s.AppStart(ctx) })},
			{Name: "stop", Usage: "Stop the app container",
				Run: withSession(func(ctx context.Context, s *fleetops.Session, _ *cli.Context) error { return s.AppStop(ctx) })},
			{Name: "details", Usage: "Show details about the app containers", Flags: []cli.Flag{jsonFlag()}, Run: containers},
			{Name: "containers", Usage: "Show app containers", Flags: []cli.Flag{jsonFlag()}, Run: containers},
			{Name: "stale_containers", Usage: "Detect app stale containers",
				Flags: []cli.Flag{jsonFlag(), &cli.BoolFlag{Name: "stop", Usage: "stop the stale containers found"}},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.AppStaleContainers(ctx, c.Bool("stop"), c.Bool("json"))
				})},
			{Name: "images", Usage: "Show app images", Flags: []cli.Flag{jsonFlag()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.AppImages(ctx, c.Bool("json"))
				})},
			{Name: "version", Usage: "Show the app version running on the servers", Flags: []cli.Flag{jsonFlag()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.AppVersion(ctx, c.Bool("json"))
				})},
			{Name: "remove", Usage: "Remove app containers and images", Flags: []cli.Flag{confirmedFlag()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					if err := confirm(c, s.Opts.Stderr, "This removes the app containers and images of "+s.Cfg.Service+" from the selected hosts. Continue?"); err != nil {
						return err
					}
					return s.AppRemove(ctx)
				})},
			{Name: "maintenance", Usage: "Serve a 503 maintenance page through the proxy",
				Flags: []cli.Flag{&cli.StringFlag{Name: "message", Usage: "message shown on the 503 page"}},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.AppMaintenance(ctx, c.String("message"))
				})},
			{Name: "live", Usage: "End maintenance mode",
				Run: withSession(func(ctx context.Context, s *fleetops.Session, _ *cli.Context) error { return s.AppLive(ctx) })},
			appExecCommand(),
			{Name: "logs", Usage: "Show log lines from the app containers", Flags: logsFlags(),
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.AppLogs(ctx, logsOptions(c))
				})},
		},
	}
}

func appExecCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:     "exec",
		Usage:    "Execute a command in a new or existing app container",
		Args:     "CMD",
		FreeText: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "run interactively with a terminal (on the primary or first selected host only)"},
			&cli.BoolFlag{Name: "reuse", Usage: "run in the running app container instead of a new one"},
			&cli.BoolFlag{Name: "detach", Usage: "run in a new detached container"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "extra environment KEY=VALUE (repeatable)"},
		},
		Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
			return exitCode(s.AppExec(ctx, fleetops.ExecOptions{
				Interactive: c.Bool("interactive"), Reuse: c.Bool("reuse"), Detach: c.Bool("detach"),
				Env: c.StringSlice("env"), Cmd: strings.Join(c.Args().Slice(), " "),
			}))
		}),
	}
}

// logsFlags are the flags of every `logs` command.
func logsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow the logs until Ctrl-C"},
		&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Usage: "number of lines to show from each host (default 100, 10 with --follow)"},
		&cli.StringFlag{Name: "since", Aliases: []string{"s"}, Usage: "show lines since a timestamp (2013-01-02T13:23:37Z) or relative (42m)"},
		&cli.StringFlag{Name: "grep", Aliases: []string{"g"}, Usage: "show only lines matching this grep pattern"},
		&cli.StringFlag{Name: "grep-options", Usage: "extra grep options, e.g. -i"},
		&cli.BoolFlag{Name: "skip-timestamps", Aliases: []string{"T"}, Usage: "do not prefix lines with docker's timestamps"},
	}
}

func logsOptions(c *cli.Context) fleetops.LogsOptions {
	return fleetops.LogsOptions{
		Follow: c.Bool("follow"), Lines: c.Int("lines"), Since: c.String("since"),
		Grep: c.String("grep"), GrepOptions: c.String("grep-options"), SkipTimestamps: c.Bool("skip-timestamps"),
	}
}

package fleetcmd

import (
	"context"
	"errors"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/fleetops"
)

// ErrAccessoryExecUsage is `accessory exec` without a name and a command.
var ErrAccessoryExecUsage = errors.New("accessory exec: usage: docker kamal accessory exec NAME CMD")

func accessoryCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:  "accessory",
		Usage: "Manage accessories (db, redis, ...)",
		Subcommands: []*cmdline.Command{
			accessoryOp("boot", "Boot an accessory", (*fleetops.Session).AccessoryBoot),
			accessoryOp("reboot", "Reboot an accessory (keeps its data)", (*fleetops.Session).AccessoryReboot),
			accessoryOp("start", "Start an accessory", (*fleetops.Session).AccessoryStart),
			accessoryOp("stop", "Stop an accessory", (*fleetops.Session).AccessoryStop),
			accessoryOp("restart", "Restart an accessory", (*fleetops.Session).AccessoryRestart),
			{Name: "details", Usage: "Show details about an accessory", Args: "NAME|all", Flags: []cli.Flag{jsonFlag()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.AccessoryDetails(ctx, c.Args().First(), c.Bool("json"))
				})},
			{Name: "exec", Usage: "Execute a command in an accessory", Args: "NAME CMD", FreeText: true,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "run interactively with a terminal (first host only)"},
					&cli.BoolFlag{Name: "reuse", Usage: "run in the running accessory container (the default; accepted for Kamal compatibility)"},
				},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					args := c.Args().Slice()
					if len(args) < 2 {
						return ErrAccessoryExecUsage
					}
					return exitCode(s.AccessoryExec(ctx, args[0], strings.Join(args[1:], " "), c.Bool("interactive")))
				})},
			{Name: "logs", Usage: "Show log lines from an accessory", Args: "NAME", Flags: logsFlags(),
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.AccessoryLogs(ctx, c.Args().First(), logsOptions(c))
				})},
			{Name: "remove", Usage: "Remove an accessory with its data", Args: "NAME|all", Flags: []cli.Flag{confirmedFlag()},
				Run: func(ctx context.Context, g *cmdline.Globals, c *cli.Context) error {
					name := c.Args().First()
					if err := confirm(c, g.Stderr, "This removes accessory "+name+" with its data directories. Continue?"); err != nil {
						return err
					}
					return withSession(func(ctx context.Context, s *fleetops.Session, _ *cli.Context) error {
						return s.AccessoryRemove(ctx, name)
					})(ctx, g, c)
				}},
			accessoryOp("upgrade", "Upgrade an accessory to the configured image", (*fleetops.Session).AccessoryUpgrade),
		},
	}
}

// accessoryOp is a command that runs op on accessory NAME (or all).
func accessoryOp(name, usage string, op func(*fleetops.Session, context.Context, string) error) *cmdline.Command {
	return &cmdline.Command{
		Name:  name,
		Usage: usage,
		Args:  "NAME|all",
		Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
			return op(s, ctx, c.Args().First())
		}),
	}
}

package fleetcmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/fleetops"
)

func proxyCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:  "proxy",
		Usage: "Manage the Traefik proxy on every host",
		Subcommands: []*cmdline.Command{
			proxyOp("boot", "Boot the proxy", (*fleetops.Session).ProxyBoot),
			{Name: "reboot", Usage: "Reboot the proxy (--rolling: one host at a time)",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "rolling", Usage: "reboot one host at a time"}, confirmedFlag()},
				Run:   withSession(rebootProxy)},
			proxyOp("start", "Start the proxy", (*fleetops.Session).ProxyStart),
			proxyOp("stop", "Stop the proxy", (*fleetops.Session).ProxyStop),
			proxyOp("restart", "Restart the proxy", (*fleetops.Session).ProxyRestart),
			{Name: "details", Usage: "Show proxy details", Flags: []cli.Flag{jsonFlag()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.ProxyDetails(ctx, c.Bool("json"))
				})},
			{Name: "logs", Usage: "Show proxy log lines", Flags: logsFlags(),
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					return s.ProxyLogs(ctx, logsOptions(c))
				})},
			{Name: "remove", Usage: "Remove the proxy", Flags: []cli.Flag{confirmedFlag()},
				Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
					if err := confirm(c, s.Opts.Stderr, "This removes the proxy from the selected hosts; their apps stop being reachable. Continue?"); err != nil {
						return err
					}
					return s.ProxyRemove(ctx)
				})},
		},
	}
}

// proxyOp is a proxy command that runs op on the selected proxy hosts.
func proxyOp(name, usage string, op func(*fleetops.Session, context.Context) error) *cmdline.Command {
	return &cmdline.Command{
		Name:  name,
		Usage: usage,
		Run: withSession(func(ctx context.Context, s *fleetops.Session, _ *cli.Context) error {
			return op(s, ctx)
		}),
	}
}

// rebootProxy says what a reboot of the selected proxy hosts can promise,
// asks, and reboots.
func rebootProxy(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
	hosts, err := s.ProxyHosts()
	if err != nil {
		return err
	}
	rolling := c.Bool("rolling")
	if _, err := fmt.Fprintln(s.Opts.Stderr, fleetops.RollingWarning(hosts, rolling)); err != nil {
		return err
	}
	if err := confirm(c, s.Opts.Stderr, "Reboot the proxy on "+strings.Join(hosts, ", ")+"?"); err != nil {
		return err
	}
	return s.ProxyReboot(ctx, hosts, rolling)
}

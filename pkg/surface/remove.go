package surface

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

func registerRemove() {
	command.RegisterFlags("remove", &cli.BoolFlag{Name: "confirmed", Aliases: []string{"y"}, Usage: "do not ask for confirmation"})
	command.Register("remove", handler(runRemove))
}

// runRemove removes this service and destination's app containers and
// images, the proxy and every accessory (with its data) from the hosts.
func runRemove(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	if err := confirm(stdin(), s.G.Stderr, c.Bool("confirmed"), "This removes the app, the proxy and all accessories (with their data) of "+s.Cfg.Service+" from its hosts. Continue?"); err != nil {
		return err
	}
	var errs []error
	errs = append(errs, removeApp(ctx, s))
	if hosts, err := proxyHosts(s); err == nil {
		errs = append(errs, s.EachHost(ctx, hosts, func(ctx context.Context, conn *transport.Conn) error {
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
			defer cancel()
			if _, err := conn.Output(ctx, removeContainerCommand(proxyContainer)); err != nil {
				return err
			}
			s.Out.Step(conn.Host(), "remove proxy", "removed", 0)
			return nil
		}))
	}
	if list, err := accessories(s, "all"); err == nil {
		for _, a := range list {
			if hosts := accessoryHosts(s, a); len(hosts) > 0 {
				errs = append(errs, removeAccessory(ctx, s, a, hosts))
			}
		}
	}
	return errors.Join(errs...)
}

// Package fleetcmd defines the commands that act on the fleet (setup,
// deploy, redeploy, rollback, build, app, accessory, proxy, lock, audit,
// details, prune, server, registry, remove): their names, help, flags and
// arguments, each mapped onto one pkg/fleetops operation.
package fleetcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/fleetops"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Commands are the fleet commands, in the order help lists them.
func Commands() []*cmdline.Command {
	return []*cmdline.Command{
		deployCommand("setup", "Set up the sidecar, proxy and accessories on every host, then deploy", (*fleetops.Session).Setup),
		deployCommand("deploy", "Deploy the app to the fleet with zero downtime", (*fleetops.Session).Deploy),
		deployCommand("redeploy", "Deploy without setup steps (lighter than deploy)", (*fleetops.Session).Redeploy),
		rollbackCommand(),
		buildCommand(),
		appCommand(),
		accessoryCommand(),
		proxyCommand(),
		lockCommand(),
		auditCommand(),
		{Name: "details", Usage: "Show details about all containers", Flags: []cli.Flag{jsonFlag()},
			Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
				return s.Details(ctx, c.Bool("json"))
			})},
		pruneCommand(),
		serverCommand(),
		registryCommand(),
		{Name: "remove", Usage: "Remove the app, proxy and accessories of this destination from the servers", Flags: []cli.Flag{confirmedFlag()},
			Run: withSession(func(ctx context.Context, s *fleetops.Session, c *cli.Context) error {
				if err := confirm(c, s.Opts.Stderr, "This removes the app, the proxy and all accessories (with their data) of "+s.Cfg.Service+" from its hosts. Continue?"); err != nil {
					return err
				}
				return s.Remove(ctx)
			})},
	}
}

// withSession opens the fleet session of the global options for fn.
func withSession(fn func(ctx context.Context, s *fleetops.Session, c *cli.Context) error) cmdline.Handler {
	return func(ctx context.Context, g *cmdline.Globals, c *cli.Context) error {
		s, err := fleetops.Open(ctx, options(g))
		if err != nil {
			return err
		}
		defer s.Close()
		return fn(ctx, s, c)
	}
}

// options are the fleet options of the global ones.
func options(g *cmdline.Globals) fleetops.Options {
	var command, subcommand string
	if len(g.Command) > 0 {
		command = g.Command[0]
	}
	if len(g.Command) > 1 {
		subcommand = g.Command[1]
	}
	return fleetops.Options{
		Command:     command,
		Subcommand:  subcommand,
		ConfigFile:  g.ConfigFile,
		Destination: g.Destination,
		Filter:      spec.Filter{Hosts: g.Hosts, Roles: g.Roles, Primary: g.Primary},
		Version:     g.Version,
		Verbose:     g.Verbose,
		Quiet:       g.Quiet,
		SkipHooks:   g.SkipHooks,
		DockerFlags: g.DockerFlags,
		Stdout:      g.Stdout,
		Stderr:      g.Stderr,
	}
}

// exitCode maps a remote command's non-zero exit to the plugin's exit
// code, so `docker kamal app exec` exits as the command did.
func exitCode(err error) error {
	var ee *transport.ExitError
	if errors.As(err, &ee) && ee.Code > 0 {
		return &cmdline.ExitError{Code: ee.Code, Err: err}
	}
	return err
}

// ErrNotConfirmed is a destructive command the user did not confirm.
var ErrNotConfirmed = errors.New("cancelled (pass -y to skip the question)")

// confirm asks question on stderr, the answer on stdin, unless -y was
// given.
func confirm(c *cli.Context, stderr io.Writer, question string) error {
	return ask(os.Stdin, stderr, c.Bool("confirmed"), question)
}

// ask asks a yes/no question on in unless yes is set.
func ask(in io.Reader, out io.Writer, yes bool, question string) error {
	if yes {
		return nil
	}
	if _, err := fmt.Fprintf(out, "%s [y/N] ", question); err != nil {
		return err
	}
	var answer string
	if _, err := fmt.Fscanln(in, &answer); err != nil {
		return ErrNotConfirmed
	}
	if a := strings.TrimSpace(answer); !strings.EqualFold(a, "y") && !strings.EqualFold(a, "yes") {
		return ErrNotConfirmed
	}
	return nil
}

func jsonFlag() cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: "print the result as JSON"}
}

func confirmedFlag() cli.Flag {
	return &cli.BoolFlag{Name: "confirmed", Aliases: []string{"y"}, Usage: "do not ask for confirmation"}
}

package cmdline

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/buildinfo"
)

const (
	appName  = "docker kamal"
	helpName = "help"
)

// newApp builds the urfave/cli app of tree for one run; urfave changes the
// commands it runs, so they are never reused.
//
// urfave's own help flag is -h/--help, and -h is Kamal's --hosts; its help
// flag is a package variable, which this package must not change. So help
// is hidden from urfave and added here as --help only, with a help command
// that does what urfave's does.
func newApp(g *Globals, tree []*Command) *cli.App {
	return &cli.App{
		Name:                 appName,
		HelpName:             appName,
		Usage:                "Zero-downtime deploys of Kamal apps to your own servers",
		Version:              buildinfo.Version,
		HideVersion:          true,
		HideHelp:             true,
		Flags:                append(globalFlags(), helpFlag()),
		Commands:             append(urfaveCommands(g, tree, nil), helpCommand()),
		Writer:               g.Stdout,
		ErrWriter:            g.Stderr,
		EnableBashCompletion: false,
		OnUsageError:         usageError,
		ExitErrHandler:       func(*cli.Context, error) {},
	}
}

func urfaveCommands(g *Globals, cmds []*Command, parents []string) []*cli.Command {
	out := make([]*cli.Command, 0, len(cmds))
	for _, c := range cmds {
		path := append(append([]string(nil), parents...), c.Name)
		uc := &cli.Command{
			Name:         c.Name,
			Usage:        c.Usage,
			ArgsUsage:    c.Args,
			Flags:        append(append([]cli.Flag{}, c.Flags...), helpFlag()),
			HideHelp:     true,
			Subcommands:  append(urfaveCommands(g, c.Subcommands, path), helpCommand()),
			OnUsageError: usageError,
		}
		if len(c.Subcommands) == 0 {
			// A leaf's only subcommand is help: its help is a command's,
			// not a group's.
			uc.CustomHelpTemplate = cli.CommandHelpTemplate
		}
		if c.Run != nil {
			run := c.Run
			uc.Action = func(cc *cli.Context) error {
				gs := globalsFrom(cc, g)
				gs.Command = path
				return run(cc.Context, gs, cc)
			}
		}
		out = append(out, uc)
	}
	return out
}

func helpFlag() cli.Flag { return &cli.BoolFlag{Name: helpName, Usage: "show help"} }

// helpCommand is `help [command]` under every command, as urfave adds it.
func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      helpName,
		Aliases:   []string{"h"},
		Usage:     "Shows a list of commands or help for one command",
		ArgsUsage: "[command]",
		HideHelp:  true,
		Flags:     []cli.Flag{helpFlag()}, // `help --help` is help too
		Action:    showHelp,
	}
}

// showHelp prints the help of the command the help command belongs to, or
// of the one named.
func showHelp(c *cli.Context) error {
	parent := c.Lineage()[1]
	if name := c.Args().First(); name != "" {
		return cli.ShowCommandHelp(parent, name)
	}
	if l := parent.Lineage(); len(l) < 2 || l[1].App == nil {
		return cli.ShowAppHelp(parent)
	}
	return cli.ShowSubcommandHelp(parent)
}

// usageError reports a bad flag as urfave does: the error, then the help.
func usageError(c *cli.Context, err error, isSubcommand bool) error {
	if _, werr := fmt.Fprintf(c.App.Writer, "Incorrect Usage: %s\n\n", err); werr != nil {
		return err
	}
	if isSubcommand {
		cli.HelpPrinter(c.App.Writer, cli.SubcommandHelpTemplate, c.Command)
		return err
	}
	_ = cli.ShowAppHelp(c) // it never fails; the usage error is what matters
	return err
}

func versionCommand() *Command {
	return &Command{
		Name:  "version",
		Usage: "Show the docker kamal version",
		Run: func(_ context.Context, g *Globals, _ *cli.Context) error {
			_, err := fmt.Fprintln(g.Stdout, buildinfo.Version)
			return err
		},
	}
}

func globalsFrom(c *cli.Context, base *Globals) *Globals {
	g := *base
	g.ConfigFile = c.String("config-file")
	g.Destination = c.String("destination")
	g.Hosts = splitList(c.String("hosts"))
	g.Roles = splitList(c.String("roles"))
	g.Primary = c.Bool("primary")
	g.Version = c.String("version")
	g.Verbose = c.Bool("verbose")
	g.Quiet = c.Bool("quiet")
	g.SkipHooks = c.Bool("skip-hooks")
	return &g
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Package cmdline is the plugin's command line: the Docker CLI plugin
// contract, Kamal's global options and aliases, and running a tree of
// commands that other packages hand in as values. It does none of the
// commands' work.
package cmdline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/docker/cli/cli-plugins/metadata"
	"github.com/urfave/cli/v2"
)

// Command is one node of the command tree. A leaf has Run; a group has
// Subcommands and shows its help when run.
type Command struct {
	Name  string
	Usage string
	// Args names the arguments in the help's usage line, e.g. "NAME|all".
	Args  string
	Flags []cli.Flag
	Run   Handler
	// Subcommands are a group's commands, in the order help lists them.
	Subcommands []*Command
	// FreeText marks a command whose arguments are a command line to run
	// (`app exec ls -la`): dash-words after the first argument belong to
	// that line, so none of them is taken for one of the command's flags.
	FreeText bool
}

// Handler does a command's work with the global options in g; c holds the
// command's own flags and arguments.
type Handler func(ctx context.Context, g *Globals, c *cli.Context) error

// Globals are Kamal's global options plus the Docker CLI flags that came
// before `kamal`.
type Globals struct {
	ConfigFile  string
	Destination string
	Hosts       []string
	Roles       []string
	Primary     bool
	Version     string
	Verbose     bool
	Quiet       bool
	SkipHooks   bool
	// Command is the path of the command running, e.g. ["proxy",
	// "reboot"] (hooks get it as KAMAL_COMMAND and KAMAL_SUBCOMMAND).
	Command []string
	// DockerFlags are passed to every local `docker` invocation so that
	// `docker --context x kamal build` builds on context x.
	DockerFlags []string
	Stdout      io.Writer
	Stderr      io.Writer
}

// ExitError carries an exit code to the outer edge.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// AliasResolver returns the `aliases:` of the config named by configFile
// and destination (the global -c and -d values, "" when not given).
type AliasResolver func(ctx context.Context, configFile, destination string) (map[string]string, error)

// Program is the whole plugin: its commands and where aliases come from.
type Program struct {
	// Commands are the top-level commands in the order help lists them;
	// version and help are added after them.
	Commands []*Command
	// Aliases, when set, lets a command name that is not in the tree be
	// replaced by its expansion from the config, so `docker kamal console`
	// runs `app exec -i ...` when the config says so.
	Aliases AliasResolver
}

// Run runs the plugin with args as os.Args and returns the exit code.
func (p Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 && args[1] == metadata.MetadataSubcommandName {
		if err := writeMetadata(stdout); err != nil {
			return fail(stderr, err, 1)
		}
		return 0
	}
	tree := append(append([]*Command{}, p.Commands...), versionCommand())
	if err := check("", tree); err != nil {
		return fail(stderr, fmt.Errorf("command tree: %w", err), 1)
	}
	dockerFlags, rest := splitDockerArgs(args[1:])
	g := &Globals{DockerFlags: dockerFlags, Stdout: stdout, Stderr: stderr}
	args, err := expandAlias(ctx, tree, p.Aliases, hoistGlobalFlags(normalizeHelp(rest)))
	if err == nil {
		err = newApp(g, tree).RunContext(ctx, append([]string{appName}, moveTrailingFlags(tree, args)...))
	}
	if err == nil {
		return 0
	}
	code := 1
	var ee *ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.Code
	case ctx.Err() != nil:
		code = 130
	}
	return fail(stderr, err, code)
}

func fail(stderr io.Writer, err error, code int) int {
	_, _ = fmt.Fprintln(stderr, "error:", err) // stderr is the last place to report to
	return code
}

// check finds what would make the tree misbehave: a node that can do
// nothing, or two siblings of one name (one would never run).
func check(parent string, cmds []*Command) error {
	seen := map[string]bool{helpName: true}
	for _, c := range cmds {
		path := parent + c.Name
		switch {
		case c.Name == "":
			return fmt.Errorf("a command under %q has no name", parent)
		case seen[c.Name]:
			return fmt.Errorf("%s is defined twice (or shadows help)", path)
		case c.Run == nil && len(c.Subcommands) == 0:
			return fmt.Errorf("%s has neither Run nor Subcommands", path)
		}
		seen[c.Name] = true
		if err := check(path+" ", c.Subcommands); err != nil {
			return err
		}
	}
	return nil
}

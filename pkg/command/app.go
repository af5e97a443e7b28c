// Package command is the `docker kamal` command surface: the Docker CLI plugin
// contract, Kamal's global options and the command tree. Each command's work
// lives in its own package; this one only parses and dispatches.
package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/docker/cli/cli-plugins/metadata"
	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/buildinfo"
)

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

// ErrNotImplemented marks commands that exist but whose issue has not landed.
var ErrNotImplemented = errors.New("not implemented yet")

// globalFlags are accepted before or after the command name, as in Kamal.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config-file", Aliases: []string{"c"}, Value: "config/deploy.yml", Usage: "path to the config file"},
		&cli.StringFlag{Name: "destination", Aliases: []string{"d"}, Usage: "destination, merges config/deploy.<DESTINATION>.yml"},
		&cli.StringFlag{Name: "hosts", Aliases: []string{"h"}, Usage: "run on these hosts only (comma-separated, wildcards with *)"},
		&cli.StringFlag{Name: "roles", Aliases: []string{"r"}, Usage: "run on hosts of these roles only (comma-separated, wildcards with *)"},
		&cli.BoolFlag{Name: "primary", Aliases: []string{"p"}, Usage: "run on the primary host only"},
		&cli.StringFlag{Name: "version", Usage: "run against this app version"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show the underlying operations"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "show errors only"},
		&cli.BoolFlag{Name: "skip-hooks", Aliases: []string{"H"}, Usage: "do not run hooks"},
	}
}

// Handlers lets later packages plug real implementations into the tree
// without this package importing them all; unset entries report
// ErrNotImplemented.
type Handler func(ctx context.Context, g *Globals, c *cli.Context) error

var handlers = map[string]Handler{}

// Register installs the implementation of a command path such as
// "deploy" or "app exec".
func Register(path string, h Handler) { handlers[path] = h }

// commandFlags holds per-command flags, keyed by command path.
var commandFlags = map[string][]cli.Flag{}

// RegisterFlags adds flags to a command path.
func RegisterFlags(path string, flags ...cli.Flag) {
	commandFlags[path] = append(commandFlags[path], flags...)
}

type node struct {
	name, usage, args string
	issue             int
	subs              []node
}

// tree is Kamal's command tree (plus doctor). issue names where the work is
// tracked, so a stub says so.
var tree = []node{
	{name: "setup", usage: "Set up the sidecar, proxy and accessories on every host, then deploy", issue: 5},
	{name: "deploy", usage: "Deploy the app to the fleet with zero downtime", issue: 5},
	{name: "redeploy", usage: "Deploy without setup steps (lighter than deploy)", issue: 5},
	{name: "rollback", usage: "Roll the fleet back to a retained version (default: the previous one)", args: "[VERSION]", issue: 5},
	{name: "build", usage: "Build the app image", issue: 5, subs: []node{
		{name: "deliver", usage: "Build and ship the image"},
		{name: "push", usage: "Build and push the image"},
		{name: "pull", usage: "Ship the image to the hosts"},
	}},
	{name: "app", usage: "Manage the application", issue: 6, subs: []node{
		{name: "boot", usage: "Boot the app on the servers"},
		{name: "start", usage: "Start the existing app container"},
		{name: "stop", usage: "Stop the app container"},
		{name: "details", usage: "Show details about the app containers"},
		{name: "containers", usage: "Show app containers"},
		{name: "stale_containers", usage: "Detect app stale containers"},
		{name: "images", usage: "Show app images"},
		{name: "version", usage: "Show the app version running on the servers"},
		{name: "remove", usage: "Remove app containers and images"},
		{name: "maintenance", usage: "Serve a 503 maintenance page through the proxy"},
		{name: "live", usage: "End maintenance mode"},
		{name: "exec", usage: "Execute a command in a new or existing app container", args: "CMD"},
		{name: "logs", usage: "Show log lines from the app containers"},
	}},
	{name: "accessory", usage: "Manage accessories (db, redis, ...)", issue: 6, subs: []node{
		{name: "boot", usage: "Boot an accessory", args: "NAME|all"},
		{name: "reboot", usage: "Reboot an accessory (keeps its data)", args: "NAME|all"},
		{name: "start", usage: "Start an accessory", args: "NAME|all"},
		{name: "stop", usage: "Stop an accessory", args: "NAME|all"},
		{name: "restart", usage: "Restart an accessory", args: "NAME|all"},
		{name: "details", usage: "Show details about an accessory", args: "NAME|all"},
		{name: "exec", usage: "Execute a command in an accessory", args: "NAME CMD"},
		{name: "logs", usage: "Show log lines from an accessory", args: "NAME"},
		{name: "remove", usage: "Remove an accessory with its data", args: "NAME|all"},
		{name: "upgrade", usage: "Upgrade an accessory to the configured image", args: "NAME|all"},
	}},
	{name: "proxy", usage: "Manage the Traefik proxy on every host", issue: 6, subs: []node{
		{name: "boot", usage: "Boot the proxy"},
		{name: "reboot", usage: "Reboot the proxy (--rolling: one host at a time)"},
		{name: "start", usage: "Start the proxy"},
		{name: "stop", usage: "Stop the proxy"},
		{name: "restart", usage: "Restart the proxy"},
		{name: "details", usage: "Show proxy details"},
		{name: "logs", usage: "Show proxy log lines"},
		{name: "remove", usage: "Remove the proxy"},
	}},
	{name: "lock", usage: "Manage the deploy lock", issue: 6, subs: []node{
		{name: "status", usage: "Report the lock status"},
		{name: "acquire", usage: "Acquire the deploy lock"},
		{name: "release", usage: "Release the deploy lock"},
	}},
	{name: "audit", usage: "Show the merged audit log of the hosts", issue: 6},
	{name: "details", usage: "Show details about all containers", issue: 6},
	{name: "prune", usage: "Prune old application images and containers", issue: 6, subs: []node{
		{name: "all", usage: "Prune unused images and stopped containers"},
		{name: "images", usage: "Prune unused images"},
		{name: "containers", usage: "Prune all stopped containers except the retained ones"},
	}},
	{name: "server", usage: "Bootstrap servers with Docker and run commands on them", issue: 6, subs: []node{
		{name: "exec", usage: "Run a command on the servers", args: "CMD"},
		{name: "bootstrap", usage: "Install Docker on the servers"},
	}},
	{name: "secrets", usage: "Helpers for extracting secrets", issue: 6, subs: []node{
		{name: "print", usage: "Print the secrets (redacted unless --reveal)"},
		{name: "extract", usage: "Extract a single secret from fetched secrets", args: "NAME SECRETS"},
		{name: "fetch", usage: "Fetch secrets from a vault", args: "SECRETS..."},
	}},
	{name: "registry", usage: "Log in and out of the image registry", issue: 6, subs: []node{
		{name: "login", usage: "Log in to the registry locally and remotely"},
		{name: "logout", usage: "Log out of the registry locally and remotely"},
	}},
	{name: "remove", usage: "Remove the app, proxy and accessories of this destination from the servers", issue: 6},
	{name: "config", usage: "Show the merged config, secrets redacted", issue: 2},
	{name: "init", usage: "Create config stub in config/deploy.yml, secrets and sample hooks", issue: 2},
	{name: "docs", usage: "Show the config reference, or one SECTION of it (docs proxy)", args: "[SECTION]", issue: 2},
	{name: "doctor", usage: "Check the app against production deployment practice", issue: 8},
}

func buildCommands(parent string, nodes []node, issue int) []*cli.Command {
	var cmds []*cli.Command
	for _, n := range nodes {
		n := n
		path := strings.TrimSpace(parent + " " + n.name)
		iss := n.issue
		if iss == 0 {
			iss = issue
		}
		cmd := &cli.Command{
			Name:      n.name,
			Usage:     n.usage,
			ArgsUsage: n.args,
			Flags:     commandFlags[path],
		}
		if len(n.subs) > 0 {
			cmd.Subcommands = buildCommands(path, n.subs, iss)
		}
		if len(n.subs) == 0 || handlers[path] != nil {
			cmd.Action = dispatch(path, iss)
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

func dispatch(path string, issue int) cli.ActionFunc {
	return func(c *cli.Context) error {
		h := handlers[path]
		if h == nil {
			return &ExitError{Code: 3, Err: fmt.Errorf("docker kamal %s: %w (tracked in issue %d)", path, ErrNotImplemented, issue)}
		}
		g := globalsFrom(c)
		return h(c.Context, g, c)
	}
}

func globalsFrom(c *cli.Context) *Globals {
	base, _ := c.App.Metadata["globals"].(*Globals)
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

func newApp(g *Globals) *cli.App {
	app := &cli.App{
		Name:                 "docker kamal",
		HelpName:             "docker kamal",
		Usage:                "Zero-downtime deploys of Kamal apps to your own servers",
		Version:              buildinfo.Version,
		HideVersion:          true,
		Flags:                globalFlags(),
		Writer:               g.Stdout,
		ErrWriter:            g.Stderr,
		EnableBashCompletion: false,
		Metadata:             map[string]any{"globals": g},
		ExitErrHandler:       func(*cli.Context, error) {},
	}
	app.Commands = append(buildCommands("", tree, 0), &cli.Command{
		Name:  "version",
		Usage: "Show the docker kamal version",
		Action: func(c *cli.Context) error {
			_, err := fmt.Fprintln(c.App.Writer, buildinfo.Version)
			return err
		},
	})
	return app
}

// Run is the whole plugin: args are os.Args. It returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 && args[1] == metadata.MetadataSubcommandName {
		if err := writeMetadata(stdout); err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 1
		}
		return 0
	}
	dockerFlags, rest := splitDockerArgs(args[1:])
	rest = normalizeHelp(rest)
	g := &Globals{DockerFlags: dockerFlags, Stdout: stdout, Stderr: stderr}
	// urfave's -h and -v would shadow Kamal's --hosts and --verbose.
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"}
	app := newApp(g)
	args, err := expandAlias(ctx, hoistGlobalFlags(rest))
	if err == nil {
		err = app.RunContext(ctx, append([]string{"docker kamal"}, moveTrailingFlags(args)...))
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "error:", err)
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if ctx.Err() != nil {
		return 130
	}
	return 1
}

// normalizeHelp maps `help CMD...` to `CMD... --help`, which is also how
// `docker help kamal` reaches us.
func normalizeHelp(args []string) []string {
	if len(args) > 0 && args[0] == "help" {
		rest := args[1:]
		// The Docker CLI runs `docker help kamal` as `docker-kamal help kamal`.
		if len(rest) > 0 && rest[0] == PluginName {
			rest = rest[1:]
		}
		return append(append([]string{}, rest...), "--help")
	}
	return args
}

// hoistGlobalFlags moves Kamal's global options that follow the command name
// in front of it, so `deploy -d staging` works as in Kamal. It stops at "--".
func hoistGlobalFlags(args []string) []string {
	valued := map[string]bool{}
	boolean := map[string]bool{}
	for _, f := range globalFlags() {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			name := "--" + n
			if len(n) == 1 {
				name = "-" + n
			}
			if isBool {
				boolean[name] = true
			} else {
				valued[name] = true
			}
		}
	}
	var globals, others []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			others = append(others, args[i:]...)
			break
		}
		name := a
		if j := strings.Index(a, "="); j > 0 && strings.HasPrefix(a, "-") {
			name = a[:j]
		}
		switch {
		case boolean[name]:
			globals = append(globals, a)
		case valued[name] && name != a:
			globals = append(globals, a)
		case valued[name] && i+1 < len(args):
			globals = append(globals, a, args[i+1])
			i++
		default:
			others = append(others, a)
		}
	}
	return append(globals, others...)
}

// Main is the plugin binary's main.
func Main(ctx context.Context) int {
	return Run(ctx, os.Args, os.Stdout, os.Stderr)
}

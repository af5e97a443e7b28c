package surface

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// execOptions are `app exec`'s flags.
type execOptions struct {
	Interactive bool
	Reuse       bool
	Detach      bool
	// Env are extra K=V variables.
	Env []string
	// Attach passes the local stdin to the command (docker -i without a
	// terminal): set when stdin is a pipe or file and one host is targeted.
	Attach bool
	// Cmd is the command line, run as Kamal runs it: appended to the
	// docker command, so the host's shell splits it.
	Cmd string
}

func (o execOptions) validate() error {
	if strings.TrimSpace(o.Cmd) == "" {
		return errors.New("app exec: give the command to run, e.g. docker kamal app exec 'bin/rails about'")
	}
	if o.Detach && (o.Interactive || o.Reuse) {
		return errors.New("app exec: --detach cannot be combined with --interactive or --reuse")
	}
	for _, e := range o.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("app exec: --env %q must be KEY=VALUE", e)
		}
	}
	return nil
}

// ttyFlags are docker's -i/-t for an interactive command.
func (o execOptions) ttyFlags() []string {
	switch {
	case o.Interactive:
		return []string{"-i", "-t"}
	case o.Attach:
		return []string{"-i"}
	}
	return nil
}

// execReuseCommand runs the command in the running container.
func execReuseCommand(containerName string, o execOptions) string {
	args := append([]string{"docker", "exec"}, o.ttyFlags()...)
	for _, e := range o.Env {
		args = append(args, "-e", e)
	}
	args = append(args, containerName)
	return transport.Quote(args...) + " " + o.Cmd
}

// execRunArgs is the `docker run` of a one-off container from the role's
// spec: its network, volumes and options, env from envFile (secrets
// included) and --env on top.
func execRunArgs(d *contract.Deploy, envFile, name string, o execOptions) []string {
	args := []string{"docker", "run"}
	if o.Detach {
		args = append(args, "--detach", "--name", name, "--label", "kamal.exec="+d.Service)
	} else {
		args = append(args, "--rm")
		args = append(args, o.ttyFlags()...)
	}
	args = append(args, "--network", d.Network, "--env-file", envFile)
	for _, e := range o.Env {
		args = append(args, "-e", e)
	}
	for _, v := range d.Options.Volumes {
		args = append(args, "--volume", v)
	}
	if d.Options.Memory != "" {
		args = append(args, "--memory", d.Options.Memory)
	}
	if d.Options.CPUs != "" {
		args = append(args, "--cpus", d.Options.CPUs)
	}
	return append(args, d.Image)
}

// execRunScript runs the one-off container and removes the env file when
// the shell exits (docker has read it by then).
func execRunScript(d *contract.Deploy, envFile, name string, o execOptions) string {
	return "trap " + transport.Quote("rm -f "+transport.Quote(envFile)) + " EXIT; " +
		transport.Quote(execRunArgs(d, envFile, name, o)...) + " " + o.Cmd
}

// uploadEnvScript stores stdin in a new 0600 file and prints its path.
const uploadEnvScript = `set -e; umask 077; f=$(mktemp /tmp/kamal-env.XXXXXX); cat > "$f"; echo "$f"`

func registerApp() {
	registerAppCommands()
	registerAppExec()
	registerAppLogs()
}

func registerAppExec() {
	command.RegisterFlags("app exec",
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "run interactively with a terminal (on the primary or first selected host only)"},
		&cli.BoolFlag{Name: "reuse", Usage: "run in the running app container instead of a new one"},
		&cli.BoolFlag{Name: "detach", Usage: "run in a new detached container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "extra environment KEY=VALUE (repeatable)"},
	)
	command.Register("app exec", handler(runAppExec))
}

func runAppExec(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	o := execOptions{
		Interactive: c.Bool("interactive"), Reuse: c.Bool("reuse"), Detach: c.Bool("detach"),
		Env: c.StringSlice("env"), Cmd: strings.Join(c.Args().Slice(), " "),
	}
	if err := o.validate(); err != nil {
		return err
	}
	targets, _, err := s.Targets()
	if err != nil {
		return err
	}
	// One target per host: the host's first selected role, as Kamal does.
	var picked []target
	seen := map[string]bool{}
	for _, t := range targets {
		if !seen[t.Host] {
			seen[t.Host] = true
			picked = append(picked, target{Host: t.Host, Role: t.Role})
		}
	}
	if o.Interactive {
		picked = []target{interactiveTarget(s, picked)}
	}
	o.Attach = !o.Interactive && !o.Detach && len(picked) == 1 && stdinIsData()
	var errs []error
	for _, t := range picked {
		if len(picked) > 1 {
			fmt.Fprintf(s.G.Stderr, "App Host: %s\n", t.Host)
		}
		if err := execOn(ctx, s, t, o); err != nil {
			if len(picked) == 1 {
				return exitCode(err)
			}
			errs = append(errs, fmt.Errorf("%s: %w", t.Host, err))
		}
	}
	if len(errs) > 0 {
		return exitCode(errors.Join(errs...))
	}
	return nil
}

// target is one (host, role).
type target struct{ Host, Role string }

// interactiveTarget is the primary host's target when selected, else the
// first.
func interactiveTarget(s *fleetcmd.Session, ts []target) target {
	for _, t := range ts {
		if t.Host == s.PrimaryHost() {
			return t
		}
	}
	return ts[0]
}

func execOn(ctx context.Context, s *fleetcmd.Session, t target, o execOptions) error {
	conn, err := s.Pool.Get(ctx, t.Host)
	if err != nil {
		return err
	}
	cs, err := listContainers(ctx, conn, s.Cfg.Service, s.Cfg.Destination, t.Role)
	if err != nil {
		return err
	}
	var cmd string
	if o.Reuse {
		live := running(cs)
		if len(live) == 0 {
			return fmt.Errorf("app exec --reuse: no running %s container on %s", t.Role, t.Host)
		}
		cmd = execReuseCommand(live[0].Name, o)
		s.Out.Verbose("[%s] %s", t.Host, cmd)
	} else {
		version := s.G.Version
		if version == "" {
			if cur, ok := current(running(cs)); ok {
				version = cur.Version
			}
		}
		if version == "" {
			return fmt.Errorf("app exec: no running %s container on %s to take the version from; pass --version", t.Role, t.Host)
		}
		d, err := s.Cfg.Deploy(t.Role, t.Host, version, s.ImageRef(version), "")
		if err != nil {
			return err
		}
		envFile, err := fleetcmd.EnvFile(d)
		if err != nil {
			return err
		}
		// The env (secrets included) goes over stdin into a 0600 file,
		// never on a command line; the command's own stdin stays free.
		out, err := runInput(ctx, conn, uploadEnvScript, envFile)
		if err != nil {
			return fmt.Errorf("upload env file to %s: %w", t.Host, err)
		}
		path := strings.TrimSpace(out)
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_ = conn.Run(cctx, "rm -f "+transport.Quote(path), nil, nil, nil)
		}()
		name := contract.ContainerName(s.Cfg.Service, t.Role, s.Cfg.Destination, "exec-"+strconv.FormatInt(time.Now().Unix(), 10))
		cmd = execRunScript(d, path, name, o)
		s.Out.Verbose("[%s] %s", t.Host, strings.ReplaceAll(cmd, path, "ENV_FILE"))
		if o.Detach {
			defer fmt.Fprintf(s.G.Stdout, "%s: started %s\n", t.Host, name)
		}
	}
	return runCommand(ctx, conn, cmd, o.Interactive, o.Attach, s.G.Stdout, s.G.Stderr)
}

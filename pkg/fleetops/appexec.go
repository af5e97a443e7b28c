package fleetops

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// ExecOptions are `app exec`'s flags and command line.
type ExecOptions struct {
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

// Errors of ExecOptions that cannot run.
var (
	// ErrDetachConflict is --detach with --interactive or --reuse.
	ErrDetachConflict = errors.New("--detach cannot be combined with --interactive or --reuse")
	// ErrBadEnv is an --env that is not KEY=VALUE.
	ErrBadEnv = errors.New("must be KEY=VALUE")
)

func (o ExecOptions) validate() error {
	if strings.TrimSpace(o.Cmd) == "" {
		return fmt.Errorf("app exec: %w, e.g. docker kamal app exec 'bin/rails about'", ErrNoCommand)
	}
	if o.Detach && (o.Interactive || o.Reuse) {
		return fmt.Errorf("app exec: %w", ErrDetachConflict)
	}
	for _, e := range o.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("app exec: --env %q %w", e, ErrBadEnv)
		}
	}
	return nil
}

// ttyFlags are docker's -i/-t for an interactive command.
func (o ExecOptions) ttyFlags() []string {
	switch {
	case o.Interactive:
		return []string{"-i", "-t"}
	case o.Attach:
		return []string{"-i"}
	}
	return nil
}

// execReuseCommand runs the command in the running container.
func execReuseCommand(containerName string, o ExecOptions) string {
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
func execRunArgs(d *contract.Deploy, envFile, name string, o ExecOptions) []string {
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
func execRunScript(d *contract.Deploy, envFile, name string, o ExecOptions) string {
	return "trap " + transport.Quote("rm -f "+transport.Quote(envFile)) + " EXIT; " +
		transport.Quote(execRunArgs(d, envFile, name, o)...) + " " + o.Cmd
}

// uploadEnvScript stores stdin in a new 0600 file and prints its path.
const uploadEnvScript = `set -e; umask 077; f=$(mktemp /tmp/kamal-env.XXXXXX); cat > "$f"; echo "$f"`

// AppExec runs o.Cmd in a new container of the app (or with Reuse in the
// running one) on each selected host: one host's first role, as Kamal
// does. A remote command's non-zero exit is a *transport.ExitError.
func (s *Session) AppExec(ctx context.Context, o ExecOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	targets, _, err := s.targets()
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
		picked = []target{s.interactiveTarget(picked)}
	}
	o.Attach = !o.Interactive && !o.Detach && len(picked) == 1 && stdinIsData()
	if len(picked) == 1 {
		return s.execOn(ctx, picked[0], o)
	}
	var errs []error
	for _, t := range picked {
		if _, err := fmt.Fprintf(s.Opts.Stderr, "App Host: %s\n", t.Host); err != nil {
			return err
		}
		if err := s.execOn(ctx, t, o); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Host, err))
		}
	}
	return errors.Join(errs...)
}

// target is one (host, role).
type target struct{ Host, Role string }

// interactiveTarget is the primary host's target when selected, else the
// first.
func (s *Session) interactiveTarget(ts []target) target {
	for _, t := range ts {
		if t.Host == s.primaryHost() {
			return t
		}
	}
	return ts[0]
}

func (s *Session) execOn(ctx context.Context, t target, o ExecOptions) error {
	conn, err := s.pool.Get(ctx, t.Host)
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
		s.out.Verbose("[%s] %s", t.Host, cmd)
	} else {
		version := s.Opts.Version
		if version == "" {
			if cur, ok := current(running(cs)); ok {
				version = cur.Version
			}
		}
		if version == "" {
			return fmt.Errorf("app exec: no running %s container on %s to take the version from; pass --version", t.Role, t.Host)
		}
		d, err := s.Cfg.Deploy(t.Role, t.Host, version, s.imageRef(version), "")
		if err != nil {
			return err
		}
		envFile, err := envFileContent(d)
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
			_ = conn.Run(cctx, "rm -f "+transport.Quote(path), nil, nil, nil) // best effort: the file is 0600 in /tmp
		}()
		name := contract.ContainerName(s.Cfg.Service, t.Role, s.Cfg.Destination, "exec-"+strconv.FormatInt(time.Now().Unix(), 10))
		cmd = execRunScript(d, path, name, o)
		s.out.Verbose("[%s] %s", t.Host, strings.ReplaceAll(cmd, path, "ENV_FILE"))
		if o.Detach {
			if err := runCommand(ctx, conn, cmd, false, false, s.Opts.Stdout, s.Opts.Stderr); err != nil {
				return err
			}
			_, err := fmt.Fprintf(s.Opts.Stdout, "%s: started %s\n", t.Host, name)
			return err
		}
	}
	return runCommand(ctx, conn, cmd, o.Interactive, o.Attach, s.Opts.Stdout, s.Opts.Stderr)
}

package fleetops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// ErrNoRegistryLogin is `registry login` without a registry that has a
// username and password.
var ErrNoRegistryLogin = errors.New("registry: the config has no registry with username and password")

// registryLoginArgs are the `docker login` arguments for r, reading the
// password from stdin: the caller writes r.Password to the command's stdin,
// never to a command line. They are nil when r has no credentials (a
// public registry).
func registryLoginArgs(r *spec.Registry) []string {
	if r == nil || r.Username == "" || r.Password == "" {
		return nil
	}
	args := []string{"login"}
	if r.Server != "" {
		args = append(args, r.Server)
	}
	return append(args, "--username", r.Username, "--password-stdin")
}

// registryLogoutArgs are the `docker logout` arguments for r.
func registryLogoutArgs(r *spec.Registry) []string {
	args := []string{"logout"}
	if r.Server != "" {
		args = append(args, r.Server)
	}
	return args
}

// RegistryLogin logs the local docker (unless skipLocal) and every
// selected host (unless skipRemote) in to the config's registry.
func (s *Session) RegistryLogin(ctx context.Context, skipLocal, skipRemote bool) error {
	r := s.Cfg.Registry
	args := registryLoginArgs(r)
	if args == nil {
		return ErrNoRegistryLogin
	}
	return s.registryDo(ctx, "login", args, r.Password, skipLocal, skipRemote)
}

// RegistryLogout logs the local docker and the selected hosts out of the
// config's registry.
func (s *Session) RegistryLogout(ctx context.Context, skipLocal, skipRemote bool) error {
	if s.Cfg.Registry == nil {
		return ErrNoRegistryLogin
	}
	return s.registryDo(ctx, "logout", registryLogoutArgs(s.Cfg.Registry), "", skipLocal, skipRemote)
}

// registryDo runs `docker args...` locally and on the hosts, with password
// (if any) on its stdin.
func (s *Session) registryDo(ctx context.Context, verb string, args []string, password string, skipLocal, skipRemote bool) error {
	stdin := func() io.Reader {
		if password == "" {
			return nil
		}
		return strings.NewReader(password)
	}
	var errs []error
	if !skipLocal {
		if out, err := execDocker(ctx, stdin(), append(dockerArgs(s.Opts.DockerFlags), args...)...); err != nil {
			errs = append(errs, fmt.Errorf("local docker %s: %w: %s", verb, err, s.out.Redact(strings.TrimSpace(string(out)))))
		} else {
			s.out.Step("local", "registry "+verb, "done", 0)
		}
	}
	if !skipRemote {
		hosts, err := s.serverHosts()
		if err != nil {
			return err
		}
		line := transport.Quote(append([]string{"docker"}, args...)...)
		errs = append(errs, s.eachHost(ctx, hosts, func(ctx context.Context, conn *transport.Conn) error {
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
			defer cancel()
			var out strings.Builder
			if err := conn.Run(ctx, line, stdin(), &out, &out); err != nil {
				return fmt.Errorf("docker %s: %w: %s", verb, err, s.out.Redact(strings.TrimSpace(out.String())))
			}
			s.out.Step(conn.Host(), "registry "+verb, "done", 0)
			return nil
		}))
	}
	return errors.Join(errs...)
}

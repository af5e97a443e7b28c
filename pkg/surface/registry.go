package surface

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

func registerRegistry() {
	for _, p := range []string{"registry login", "registry logout"} {
		command.RegisterFlags(p,
			&cli.BoolFlag{Name: "skip-local", Aliases: []string{"L"}, Usage: "skip the local docker"},
			&cli.BoolFlag{Name: "skip-remote", Aliases: []string{"R"}, Usage: "skip the hosts"})
	}
	command.Register("registry login", handler(func(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
		return registryDo(ctx, s, c, true)
	}))
	command.Register("registry logout", handler(func(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
		return registryDo(ctx, s, c, false)
	}))
}

// loginArgs is `docker login` with the password read from stdin (never
// on a command line), or `docker logout`.
func loginArgs(r *spec.Registry, login bool) []string {
	if !login {
		args := []string{"logout"}
		if r.Server != "" {
			args = append(args, r.Server)
		}
		return args
	}
	args := []string{"login"}
	if r.Server != "" {
		args = append(args, r.Server)
	}
	return append(args, "--username", r.Username, "--password-stdin")
}

func registryDo(ctx context.Context, s *fleetcmd.Session, c *cli.Context, login bool) error {
	r := s.Cfg.Registry
	if r == nil || (login && (r.Username == "" || r.Password == "")) {
		return errors.New("registry: the config has no registry with username and password")
	}
	args := loginArgs(r, login)
	verb := "logout"
	if login {
		verb = "login"
	}
	var errs []error
	if !c.Bool("skip-local") {
		cmd := exec.CommandContext(ctx, "docker", append(append([]string{}, s.G.DockerFlags...), args...)...)
		if login {
			cmd.Stdin = strings.NewReader(r.Password)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("local docker %s: %w: %s", verb, err, s.Out.Redact(strings.TrimSpace(string(out)))))
		} else {
			s.Out.Step("local", "registry "+verb, "done", 0)
		}
	}
	if !c.Bool("skip-remote") {
		hosts, err := serverHosts(s)
		if err != nil {
			return err
		}
		line := transport.Quote(append([]string{"docker"}, args...)...)
		err = s.EachHost(ctx, hosts, func(ctx context.Context, conn *transport.Conn) error {
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
			defer cancel()
			var stdin *strings.Reader
			if login {
				stdin = strings.NewReader(r.Password)
			}
			var out strings.Builder
			var err error
			if stdin != nil {
				err = conn.Run(ctx, line, stdin, &out, &out)
			} else {
				err = conn.Run(ctx, line, nil, &out, &out)
			}
			if err != nil {
				return fmt.Errorf("docker %s: %w: %s", verb, err, s.Out.Redact(strings.TrimSpace(out.String())))
			}
			s.Out.Step(conn.Host(), "registry "+verb, "done", 0)
			return nil
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

package surface

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// bootstrapTimeout bounds installing Docker on one host.
const bootstrapTimeout = 15 * time.Minute

func registerServer() {
	command.RegisterFlags("server exec",
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "run interactively with a terminal (first selected host only)"})
	command.Register("server exec", handler(runServerExec))
	command.Register("server bootstrap", handler(runServerBootstrap))
}

func runServerExec(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	cmd := strings.Join(c.Args().Slice(), " ")
	if strings.TrimSpace(cmd) == "" {
		return errors.New("server exec: give the command to run")
	}
	hosts, err := serverHosts(s)
	if err != nil {
		return err
	}
	interactive := c.Bool("interactive")
	if interactive {
		hosts = hosts[:1]
	}
	attach := !interactive && len(hosts) == 1 && stdinIsData()
	var errs []error
	for _, h := range hosts {
		if len(hosts) > 1 {
			fmt.Fprintf(s.G.Stderr, "Host: %s\n", h)
		}
		conn, err := s.Pool.Get(ctx, h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := runCommand(ctx, conn, cmd, interactive, attach, s.G.Stdout, s.G.Stderr); err != nil {
			if len(hosts) == 1 {
				return exitCode(err)
			}
			errs = append(errs, fmt.Errorf("%s: %w", h, err))
		}
	}
	return exitCode(errors.Join(errs...))
}

// bootstrapScript installs Docker from the distribution's own apt
// repositories when it is missing (as root, or with passwordless sudo),
// adds a non-root login to the docker group and creates the app network.
// It is idempotent: with Docker present it only reports the version.
func bootstrapScript(network string) string {
	return `set -e
SUDO=
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "docker kamal server bootstrap: need root or passwordless sudo on $(hostname) to install Docker" >&2; exit 1; fi
fi
if command -v docker >/dev/null 2>&1; then
  echo "docker present: $(docker --version 2>/dev/null || $SUDO docker --version)"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "docker kamal server bootstrap: $(hostname) has no apt-get; only Debian and Ubuntu are supported, install Docker by hand" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q docker.io >/dev/null
  $SUDO systemctl enable --now docker >/dev/null 2>&1 || $SUDO service docker start >/dev/null 2>&1 || true
  if [ -n "$SUDO" ]; then $SUDO usermod -aG docker "$(id -un)"; fi
  echo "docker installed: $($SUDO docker --version)"
fi
i=0; until $SUDO docker info >/dev/null 2>&1; do i=$((i+1)); [ $i -le 30 ] || { echo "dockerd does not answer" >&2; exit 1; }; sleep 1; done
$SUDO docker network inspect ` + transport.Quote(network) + ` >/dev/null 2>&1 || $SUDO docker network create ` + transport.Quote(network) + ` >/dev/null
`
}

func runServerBootstrap(ctx context.Context, s *fleetcmd.Session, _ *cli.Context) error {
	hosts, err := serverHosts(s)
	if err != nil {
		return err
	}
	script := bootstrapScript(contract.DefaultNetwork)
	return s.EachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, bootstrapTimeout)
		defer cancel()
		var out, errb strings.Builder
		if err := c.Run(ctx, script, nil, &out, &errb); err != nil {
			return fmt.Errorf("bootstrap: %w: %s", err, strings.TrimSpace(errb.String()))
		}
		s.Out.Step(c.Host(), "bootstrap", strings.TrimSpace(out.String()), 0)
		return nil
	})
}

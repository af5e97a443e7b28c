package fleetops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// bootstrapTimeout bounds installing Docker on one host.
const bootstrapTimeout = 15 * time.Minute

// ErrNoCommand is an exec without a command line.
var ErrNoCommand = errors.New("give the command to run")

// ServerExec runs cmd on the selected servers, or with interactive on the
// first one with a terminal. A remote command's non-zero exit is a
// *transport.ExitError.
func (s *Session) ServerExec(ctx context.Context, cmd string, interactive bool) error {
	if strings.TrimSpace(cmd) == "" {
		return fmt.Errorf("server exec: %w", ErrNoCommand)
	}
	hosts, err := s.serverHosts()
	if err != nil {
		return err
	}
	if interactive {
		hosts = hosts[:1]
	}
	attach := !interactive && len(hosts) == 1 && stdinIsData()
	var errs []error
	for _, h := range hosts {
		if len(hosts) > 1 {
			if _, err := fmt.Fprintf(s.Opts.Stderr, "Host: %s\n", h); err != nil {
				return err
			}
		}
		conn, err := s.pool.Get(ctx, h)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := runCommand(ctx, conn, cmd, interactive, attach, s.Opts.Stdout, s.Opts.Stderr); err != nil {
			if len(hosts) == 1 {
				return err
			}
			errs = append(errs, fmt.Errorf("%s: %w", h, err))
		}
	}
	return errors.Join(errs...)
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

// ServerBootstrap installs Docker where it is missing on the selected
// servers and creates the app network.
func (s *Session) ServerBootstrap(ctx context.Context) error {
	hosts, err := s.serverHosts()
	if err != nil {
		return err
	}
	script := bootstrapScript(contract.DefaultNetwork)
	err = s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, bootstrapTimeout)
		defer cancel()
		var out, errb strings.Builder
		if err := c.Run(ctx, script, nil, &out, &errb); err != nil {
			return fmt.Errorf("bootstrap: %w: %s", err, strings.TrimSpace(errb.String()))
		}
		s.out.Step(c.Host(), "bootstrap", strings.TrimSpace(out.String()), 0)
		return nil
	})
	if err != nil {
		return err
	}
	return s.runHook(ctx, "docker-setup", hosts, false)
}

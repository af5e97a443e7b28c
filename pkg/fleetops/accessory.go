package fleetops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// accessories resolves NAME or "all".
func (s *Session) accessories(name string) ([]*spec.Accessory, error) {
	if name == "" {
		return nil, fmt.Errorf("name an accessory or all (accessories: %s)", strings.Join(s.accessoryNames(), ", "))
	}
	if name == "all" {
		var out []*spec.Accessory
		for _, n := range s.accessoryNames() {
			out = append(out, s.Cfg.Accessory(n))
		}
		return out, nil
	}
	a := s.Cfg.Accessory(name)
	if a == nil {
		return nil, fmt.Errorf("accessory %s is not in the config (accessories: %s)", name, strings.Join(s.accessoryNames(), ", "))
	}
	return []*spec.Accessory{a}, nil
}

// accessoryHosts are a's hosts narrowed by --hosts.
func (s *Session) accessoryHosts(a *spec.Accessory) []string {
	return filterHosts(a.Hosts, s.Opts.Filter.Hosts)
}

// accessoryEach runs fn for accessory name (or every one, for "all") on
// its selected hosts.
func (s *Session) accessoryEach(verb, name string, fn func(ctx context.Context, a *spec.Accessory, hosts []string) error) func(context.Context) error {
	return func(ctx context.Context) error {
		list, err := s.accessories(name)
		if err != nil {
			return fmt.Errorf("accessory %s: %w", verb, err)
		}
		var errs []error
		for _, a := range list {
			hosts := s.accessoryHosts(a)
			if len(hosts) == 0 {
				continue
			}
			if err := fn(ctx, a, hosts); err != nil {
				errs = append(errs, fmt.Errorf("accessory %s %s: %w", verb, a.Name, err))
			}
		}
		return errors.Join(errs...)
	}
}

// AccessoryBoot boots accessory name (or all) where it does not run yet.
func (s *Session) AccessoryBoot(ctx context.Context, name string) error {
	return s.accessoryEach("boot", name, s.bootAccessoryOn)(ctx)
}

// AccessoryReboot replaces the accessory's container; its directories and
// volumes (its data) stay on the host and are mounted again.
func (s *Session) AccessoryReboot(ctx context.Context, name string) error {
	return s.accessoryEach("reboot", name, s.rebootAccessory)(ctx)
}

// AccessoryUpgrade ships the configured image and reboots the accessory
// where it runs another image.
func (s *Session) AccessoryUpgrade(ctx context.Context, name string) error {
	return s.accessoryEach("upgrade", name, s.upgradeAccessory)(ctx)
}

// AccessoryStart starts the accessory's container.
func (s *Session) AccessoryStart(ctx context.Context, name string) error {
	return s.accessoryDocker(ctx, name, "start")
}

// AccessoryStop stops the accessory's container.
func (s *Session) AccessoryStop(ctx context.Context, name string) error {
	return s.accessoryDocker(ctx, name, "stop")
}

// AccessoryRestart restarts the accessory's container.
func (s *Session) AccessoryRestart(ctx context.Context, name string) error {
	return s.accessoryDocker(ctx, name, "restart")
}

// AccessoryRemove removes the accessory with its data directories.
func (s *Session) AccessoryRemove(ctx context.Context, name string) error {
	return s.accessoryEach("remove", name, s.removeAccessory)(ctx)
}

// accessoryDockerCommand is `docker start|stop|restart NAME`.
func accessoryDockerCommand(op, containerName string) string {
	return transport.Quote("docker", op, containerName)
}

func (s *Session) accessoryDocker(ctx context.Context, name, op string) error {
	return s.accessoryEach(op, name, func(ctx context.Context, a *spec.Accessory, hosts []string) error {
		return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
			t0 := time.Now()
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
			defer cancel()
			if _, err := c.Output(ctx, accessoryDockerCommand(op, a.Service)); err != nil {
				return fmt.Errorf("%s %s: %w", op, a.Service, err)
			}
			s.out.Step(c.Host(), op+" accessory "+a.Name, "done", time.Since(t0))
			return nil
		})
	})(ctx)
}

// removeContainerCommand stops and removes a container, if it exists.
func removeContainerCommand(name string) string {
	q := transport.Quote(name)
	return "docker stop " + q + " >/dev/null 2>&1; docker rm -f " + q + " >/dev/null 2>&1; ! docker inspect " + q + " >/dev/null 2>&1"
}

func (s *Session) rebootAccessory(ctx context.Context, a *spec.Accessory, hosts []string) error {
	err := s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		if _, err := c.Output(ctx, removeContainerCommand(a.Service)); err != nil {
			return fmt.Errorf("remove container %s: %w", a.Service, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.bootAccessoryOn(ctx, a, hosts)
}

func (s *Session) upgradeAccessory(ctx context.Context, a *spec.Accessory, hosts []string) error {
	var stale []string
	var mu sync.Mutex
	err := s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		// A missing container (an error) runs no image: it is stale too.
		out, _ := c.Output(ctx, "docker inspect --format '{{.Config.Image}}' "+transport.Quote(a.Service)+" 2>/dev/null")
		if strings.TrimSpace(string(out)) == a.Image {
			s.out.Step(c.Host(), "accessory "+a.Name, "already runs "+a.Image, 0)
			return nil
		}
		mu.Lock()
		stale = append(stale, c.Host())
		mu.Unlock()
		return nil
	})
	if err != nil || len(stale) == 0 {
		return err
	}
	return s.rebootAccessory(ctx, a, stale)
}

// removeAccessoryScript removes the container, its image (when no other
// container uses it) and its directory on the host (files and data).
func removeAccessoryScript(a *spec.Accessory, home string) string {
	return removeContainerCommand(a.Service) + " && { docker image rm " + transport.Quote(a.Image) + " >/dev/null 2>&1; rm -rf " + transport.Quote(home) + "; }"
}

func (s *Session) removeAccessory(ctx context.Context, a *spec.Accessory, hosts []string) error {
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		home, err := accessoryHome(ctx, c, a)
		if err != nil {
			return err
		}
		if out, err := c.Output(ctx, removeAccessoryScript(a, home)); err != nil {
			return fmt.Errorf("remove %s: %w: %s", a.Service, err, out)
		}
		s.out.Step(c.Host(), "remove accessory "+a.Name, "removed", 0)
		return nil
	})
}

// AccessoryLogs streams the log lines of accessory name (or all) on its
// selected hosts.
func (s *Session) AccessoryLogs(ctx context.Context, name string, o LogsOptions) error {
	list, err := s.accessories(name)
	if err != nil {
		return err
	}
	var srcs []logSource
	for _, a := range list {
		for _, h := range s.accessoryHosts(a) {
			srcs = append(srcs, logSource{Host: h, Container: a.Service, Prefix: h + " " + a.Name})
		}
	}
	return s.streamLogs(ctx, srcs, o)
}

// accessoryExecCommand runs cmd in the running accessory container.
func accessoryExecCommand(containerName, cmd string, interactive, attach bool) string {
	args := []string{"docker", "exec"}
	switch {
	case interactive:
		args = append(args, "-i", "-t")
	case attach:
		args = append(args, "-i")
	}
	return transport.Quote(append(args, containerName)...) + " " + cmd
}

// AccessoryExec runs cmdline in the running container of accessory name
// (or of all) on its selected hosts, with stdout passed through untouched,
// so `accessory exec db "pg_dump ... | gzip" > backup.sql.gz` writes
// exactly the bytes the command wrote. A remote command's non-zero exit is
// a *transport.ExitError.
func (s *Session) AccessoryExec(ctx context.Context, name, cmdline string, interactive bool) error {
	list, err := s.accessories(name)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range list {
		hosts := s.accessoryHosts(a)
		if interactive && len(hosts) > 1 {
			hosts = hosts[:1]
		}
		attach := !interactive && len(list) == 1 && len(hosts) == 1 && stdinIsData()
		for _, h := range hosts {
			if len(hosts) > 1 || len(list) > 1 {
				if _, err := fmt.Fprintf(s.Opts.Stderr, "Accessory %s on %s:\n", a.Name, h); err != nil {
					return err
				}
			}
			conn, err := s.pool.Get(ctx, h)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cmd := accessoryExecCommand(a.Service, cmdline, interactive, attach)
			s.out.Verbose("[%s] %s", h, cmd)
			if err := runCommand(ctx, conn, cmd, interactive, attach, s.Opts.Stdout, s.Opts.Stderr); err != nil {
				if len(hosts) == 1 && len(list) == 1 {
					return err
				}
				errs = append(errs, fmt.Errorf("%s: %w", h, err))
			}
		}
	}
	return errors.Join(errs...)
}

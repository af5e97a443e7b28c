package surface

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

func registerAccessory() {
	yes := &cli.BoolFlag{Name: "confirmed", Aliases: []string{"y"}, Usage: "do not ask for confirmation"}
	command.RegisterFlags("accessory remove", yes)
	command.RegisterFlags("accessory details", jsonFlag)
	command.RegisterFlags("accessory logs", logsFlags()...)
	command.RegisterFlags("accessory exec",
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "run interactively with a terminal (first host only)"},
		&cli.BoolFlag{Name: "reuse", Usage: "run in the running accessory container (the default; accepted for Kamal compatibility)"},
	)
	command.Register("accessory boot", accessoryEach("boot", func(ctx context.Context, s *fleetcmd.Session, a *spec.Accessory, hosts []string) error {
		return s.BootAccessory(ctx, a, hosts)
	}))
	command.Register("accessory reboot", accessoryEach("reboot", rebootAccessory))
	command.Register("accessory upgrade", accessoryEach("upgrade", upgradeAccessory))
	for _, op := range []string{"start", "stop", "restart"} {
		command.Register("accessory "+op, accessoryEach(op, func(ctx context.Context, s *fleetcmd.Session, a *spec.Accessory, hosts []string) error {
			return accessoryDocker(ctx, s, a, hosts, op)
		}))
	}
	command.Register("accessory remove", func(ctx context.Context, g *command.Globals, c *cli.Context) error {
		names := c.Args().First()
		if err := confirm(stdin(), g.Stderr, c.Bool("confirmed"), "This removes accessory "+names+" with its data directories. Continue?"); err != nil {
			return err
		}
		return accessoryEach("remove", removeAccessory)(ctx, g, c)
	})
	command.Register("accessory details", handler(runAccessoryDetails))
	command.Register("accessory logs", handler(runAccessoryLogs))
	command.Register("accessory exec", handler(runAccessoryExec))
}

// accessories resolves NAME or "all".
func accessories(s *fleetcmd.Session, name string) ([]*spec.Accessory, error) {
	if name == "" {
		return nil, fmt.Errorf("name an accessory or all (accessories: %s)", strings.Join(s.AccessoryNames(), ", "))
	}
	if name == "all" {
		var out []*spec.Accessory
		for _, n := range s.AccessoryNames() {
			out = append(out, s.Cfg.Accessory(n))
		}
		return out, nil
	}
	a := s.Cfg.Accessory(name)
	if a == nil {
		return nil, fmt.Errorf("accessory %s is not in the config (accessories: %s)", name, strings.Join(s.AccessoryNames(), ", "))
	}
	return []*spec.Accessory{a}, nil
}

// accessoryHosts are a's hosts narrowed by --hosts.
func accessoryHosts(s *fleetcmd.Session, a *spec.Accessory) []string {
	return filterHosts(a.Hosts, s.G.Hosts)
}

// accessoryEach runs fn for NAME or every accessory on its hosts.
func accessoryEach(verb string, fn func(ctx context.Context, s *fleetcmd.Session, a *spec.Accessory, hosts []string) error) command.Handler {
	return handler(func(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
		list, err := accessories(s, c.Args().First())
		if err != nil {
			return fmt.Errorf("accessory %s: %w", verb, err)
		}
		var errs []error
		for _, a := range list {
			hosts := accessoryHosts(s, a)
			if len(hosts) == 0 {
				continue
			}
			if err := fn(ctx, s, a, hosts); err != nil {
				errs = append(errs, fmt.Errorf("accessory %s %s: %w", verb, a.Name, err))
			}
		}
		return errors.Join(errs...)
	})
}

// accessoryDockerCommand is `docker start|stop|restart NAME`.
func accessoryDockerCommand(op, containerName string) string {
	return transport.Quote("docker", op, containerName)
}

func accessoryDocker(ctx context.Context, s *fleetcmd.Session, a *spec.Accessory, hosts []string, op string) error {
	return s.EachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		if _, err := c.Output(ctx, accessoryDockerCommand(op, a.Service)); err != nil {
			return fmt.Errorf("%s %s: %w", op, a.Service, err)
		}
		s.Out.Step(c.Host(), op+" accessory "+a.Name, "done", time.Since(t0))
		return nil
	})
}

// removeContainerCommand stops and removes a container, if it exists.
func removeContainerCommand(name string) string {
	q := transport.Quote(name)
	return "docker stop " + q + " >/dev/null 2>&1; docker rm -f " + q + " >/dev/null 2>&1; ! docker inspect " + q + " >/dev/null 2>&1"
}

// rebootAccessory replaces the container; directories and volumes (its
// data) stay on the host and are mounted again.
func rebootAccessory(ctx context.Context, s *fleetcmd.Session, a *spec.Accessory, hosts []string) error {
	err := s.EachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
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
	return s.BootAccessory(ctx, a, hosts)
}

// upgradeAccessory ships the configured image and reboots the accessory
// where it runs another image.
func upgradeAccessory(ctx context.Context, s *fleetcmd.Session, a *spec.Accessory, hosts []string) error {
	var stale []string
	var mu sync.Mutex
	err := s.EachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		out, _ := c.Output(ctx, "docker inspect --format '{{.Config.Image}}' "+transport.Quote(a.Service)+" 2>/dev/null")
		if strings.TrimSpace(string(out)) == a.Image {
			s.Out.Step(c.Host(), "accessory "+a.Name, "already runs "+a.Image, 0)
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
	return rebootAccessory(ctx, s, a, stale)
}

// removeAccessoryScript removes the container, its image (when no other
// container uses it) and its directory on the host (files and data).
func removeAccessoryScript(a *spec.Accessory, home string) string {
	return removeContainerCommand(a.Service) + " && { docker image rm " + transport.Quote(a.Image) + " >/dev/null 2>&1; rm -rf " + transport.Quote(home) + "; }"
}

func removeAccessory(ctx context.Context, s *fleetcmd.Session, a *spec.Accessory, hosts []string) error {
	return s.EachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		home, err := fleetcmd.AccessoryHome(ctx, c, a)
		if err != nil {
			return err
		}
		if out, err := c.Output(ctx, removeAccessoryScript(a, home)); err != nil {
			return fmt.Errorf("remove %s: %w: %s", a.Service, err, out)
		}
		s.Out.Step(c.Host(), "remove accessory "+a.Name, "removed", 0)
		return nil
	})
}

// accessoryState is one accessory container on one host.
type accessoryState struct {
	Accessory string `json:"accessory"`
	Host      string `json:"host"`
	Container string `json:"container"`
	Image     string `json:"image"`
	State     string `json:"state"`
	Status    string `json:"status"`
	Ports     string `json:"ports,omitempty"`
}

// accessoryPSCommand lists the container named exactly name.
func accessoryPSCommand(name string) string {
	return "docker ps -a --filter " + transport.Quote("name=^"+name+"$") + " --format " + transport.Quote(`{{.Names}}\t{{.Image}}\t{{.State}}\t{{.Status}}\t{{.Ports}}`)
}

func accessoryStates(ctx context.Context, s *fleetcmd.Session, list []*spec.Accessory) ([]accessoryState, error) {
	var out []accessoryState
	var mu sync.Mutex
	var errs []error
	for _, a := range list {
		hosts := accessoryHosts(s, a)
		states := make(map[string]accessoryState)
		err := s.EachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
			defer cancel()
			raw, err := c.Output(ctx, accessoryPSCommand(a.Service))
			if err != nil {
				return err
			}
			st := accessoryState{Accessory: a.Name, Host: c.Host(), Container: a.Service, Image: a.Image, State: "missing"}
			if f := strings.Split(strings.TrimSpace(string(raw)), "\t"); len(f) == 5 {
				st.Image, st.State, st.Status, st.Ports = f[1], f[2], f[3], f[4]
			}
			mu.Lock()
			states[c.Host()] = st
			mu.Unlock()
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		for _, h := range hosts {
			if st, ok := states[h]; ok {
				out = append(out, st)
			}
		}
	}
	return out, errors.Join(errs...)
}

func runAccessoryDetails(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	name := c.Args().First()
	if name == "" {
		name = "all"
	}
	list, err := accessories(s, name)
	if err != nil {
		return err
	}
	states, err := accessoryStates(ctx, s, list)
	if c.Bool("json") {
		return errors.Join(err, writeJSON(s.G.Stdout, states))
	}
	tw := tabwriter.NewWriter(s.G.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESSORY\tHOST\tCONTAINER\tIMAGE\tSTATE\tSTATUS\tPORTS")
	for _, st := range states {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Accessory, st.Host, st.Container, st.Image, st.State, st.Status, st.Ports)
	}
	return errors.Join(err, tw.Flush())
}

func runAccessoryLogs(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	list, err := accessories(s, c.Args().First())
	if err != nil {
		return err
	}
	var srcs []logSource
	for _, a := range list {
		for _, h := range accessoryHosts(s, a) {
			srcs = append(srcs, logSource{Host: h, Container: a.Service, Prefix: h + " " + a.Name})
		}
	}
	return streamLogs(ctx, s, srcs, logsOptionsFrom(c))
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

// runAccessoryExec runs a command in the running accessory container, with
// stdout passed through untouched, so `accessory exec db "pg_dump ... |
// gzip" > backup.sql.gz` writes exactly the bytes the command wrote.
func runAccessoryExec(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) < 2 {
		return errors.New("accessory exec: usage: docker kamal accessory exec NAME CMD")
	}
	list, err := accessories(s, args[0])
	if err != nil {
		return err
	}
	cmdline := strings.Join(args[1:], " ")
	interactive := c.Bool("interactive")
	var errs []error
	for _, a := range list {
		hosts := accessoryHosts(s, a)
		if interactive && len(hosts) > 1 {
			hosts = hosts[:1]
		}
		attach := !interactive && len(list) == 1 && len(hosts) == 1 && stdinIsData()
		for _, h := range hosts {
			if len(hosts) > 1 || len(list) > 1 {
				fmt.Fprintf(s.G.Stderr, "Accessory %s on %s:\n", a.Name, h)
			}
			conn, err := s.Pool.Get(ctx, h)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cmd := accessoryExecCommand(a.Service, cmdline, interactive, attach)
			s.Out.Verbose("[%s] %s", h, cmd)
			if err := runCommand(ctx, conn, cmd, interactive, attach, s.G.Stdout, s.G.Stderr); err != nil {
				if len(hosts) == 1 && len(list) == 1 {
					return exitCode(err)
				}
				errs = append(errs, fmt.Errorf("%s: %w", h, err))
			}
		}
	}
	return exitCode(errors.Join(errs...))
}

func stdin() *os.File { return os.Stdin }

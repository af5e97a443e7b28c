package surface

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// proxyContainer is the Traefik container the sidecar runs on each host
// (pkg/traefik.DefaultContainerName; not imported to keep the plugin
// small, checked by a test).
const proxyContainer = "kamal-traefik"

func registerProxy() {
	command.RegisterFlags("proxy reboot",
		&cli.BoolFlag{Name: "rolling", Usage: "reboot one host at a time"},
		&cli.BoolFlag{Name: "confirmed", Aliases: []string{"y"}, Usage: "do not ask for confirmation"})
	command.RegisterFlags("proxy remove", &cli.BoolFlag{Name: "confirmed", Aliases: []string{"y"}, Usage: "do not ask for confirmation"})
	command.RegisterFlags("proxy details", jsonFlag)
	command.RegisterFlags("proxy logs", logsFlags()...)
	command.Register("proxy boot", handler(func(ctx context.Context, s *fleetcmd.Session, _ *cli.Context) error {
		hosts, err := proxyHosts(s)
		if err != nil {
			return err
		}
		return s.BootTraefik(ctx, hosts)
	}))
	command.Register("proxy reboot", handler(runProxyReboot))
	for _, op := range []string{"start", "stop", "restart"} {
		command.Register("proxy "+op, handler(func(ctx context.Context, s *fleetcmd.Session, _ *cli.Context) error {
			return proxyDocker(ctx, s, transport.Quote("docker", op, proxyContainer), op)
		}))
	}
	command.Register("proxy remove", handler(func(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
		if err := confirm(stdin(), s.G.Stderr, c.Bool("confirmed"), "This removes the proxy from the selected hosts; their apps stop being reachable. Continue?"); err != nil {
			return err
		}
		return proxyDocker(ctx, s, removeContainerCommand(proxyContainer), "remove")
	}))
	command.Register("proxy details", handler(runProxyDetails))
	command.Register("proxy logs", handler(func(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
		hosts, err := proxyHosts(s)
		if err != nil {
			return err
		}
		var srcs []logSource
		for _, h := range hosts {
			srcs = append(srcs, logSource{Host: h, Container: proxyContainer, Prefix: h})
		}
		return streamLogs(ctx, s, srcs, logsOptionsFrom(c))
	}))
}

// proxyHosts are the selected hosts that run a proxied role.
func proxyHosts(s *fleetcmd.Session) ([]string, error) {
	hosts, err := serverHosts(s)
	if err != nil {
		return nil, err
	}
	hosts = s.ProxyHosts(hosts)
	if len(hosts) == 0 {
		return nil, errors.New("no selected host runs a role with a proxy")
	}
	return hosts, nil
}

func proxyDocker(ctx context.Context, s *fleetcmd.Session, cmd, op string) error {
	hosts, err := proxyHosts(s)
	if err != nil {
		return err
	}
	return s.EachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		if _, err := c.Output(ctx, cmd); err != nil {
			return fmt.Errorf("%s proxy: %w", op, err)
		}
		s.Out.Step(c.Host(), op+" proxy", "done", time.Since(t0))
		return nil
	})
}

// rollingWarning says plainly what a proxy reboot can and cannot promise.
func rollingWarning(hosts []string, rolling bool) string {
	switch {
	case len(hosts) == 1:
		return fmt.Sprintf("Warning: %s is the only proxy host: rebooting its proxy cannot be zero-downtime; requests fail for the seconds the new Traefik takes to start.", hosts[0])
	case rolling:
		return "Rebooting the proxy one host at a time: no request is dropped only if a load balancer in front stops sending traffic to each host while its proxy restarts; without one, clients of that host see errors for a few seconds."
	}
	return "Warning: rebooting the proxy on all hosts at once drops requests on every host while Traefik restarts; use --rolling behind a load balancer."
}

func runProxyReboot(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	hosts, err := proxyHosts(s)
	if err != nil {
		return err
	}
	rolling := c.Bool("rolling")
	fmt.Fprintln(s.G.Stderr, rollingWarning(hosts, rolling))
	if err := confirm(stdin(), s.G.Stderr, c.Bool("confirmed"), "Reboot the proxy on "+strings.Join(hosts, ", ")+"?"); err != nil {
		return err
	}
	req := s.TraefikRequest()
	reboot := func(ctx context.Context, h string) error {
		t0 := time.Now()
		cl, err := s.Sidecar(ctx, h)
		if err != nil {
			return err
		}
		st, err := cl.RebootTraefik(ctx, req)
		if err != nil {
			return fmt.Errorf("reboot proxy on %s: %w", h, err)
		}
		s.Out.Step(h, "reboot proxy "+st.Image, map[bool]string{true: "running", false: "not running"}[st.Running], time.Since(t0))
		return nil
	}
	if rolling {
		for _, h := range hosts {
			if err := reboot(ctx, h); err != nil {
				return err
			}
		}
		return nil
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := reboot(ctx, h); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// proxyState is the proxy container on one host.
type proxyState struct {
	Host   string `json:"host"`
	Image  string `json:"image,omitempty"`
	State  string `json:"state"`
	Status string `json:"status,omitempty"`
	Ports  string `json:"ports,omitempty"`
}

func proxyStates(ctx context.Context, s *fleetcmd.Session, hosts []string) ([]proxyState, error) {
	states := map[string]proxyState{}
	var mu sync.Mutex
	err := s.EachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		raw, err := c.Output(ctx, accessoryPSCommand(proxyContainer))
		if err != nil {
			return err
		}
		st := proxyState{Host: c.Host(), State: "missing"}
		if f := strings.Split(strings.TrimSpace(string(raw)), "\t"); len(f) == 5 {
			st.Image, st.State, st.Status, st.Ports = f[1], f[2], f[3], f[4]
		}
		mu.Lock()
		states[c.Host()] = st
		mu.Unlock()
		return nil
	})
	var out []proxyState
	for _, h := range hosts {
		if st, ok := states[h]; ok {
			out = append(out, st)
		}
	}
	return out, err
}

func runProxyDetails(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	hosts, err := proxyHosts(s)
	if err != nil {
		return err
	}
	states, err := proxyStates(ctx, s, hosts)
	if c.Bool("json") {
		return errors.Join(err, writeJSON(s.G.Stdout, states))
	}
	tw := tabwriter.NewWriter(s.G.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tCONTAINER\tIMAGE\tSTATE\tSTATUS\tPORTS")
	for _, st := range states {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", st.Host, proxyContainer, st.Image, st.State, st.Status, st.Ports)
	}
	return errors.Join(err, tw.Flush())
}

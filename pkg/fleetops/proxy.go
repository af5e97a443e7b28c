package fleetops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Traefik image defaults. DOCKER_KAMAL_TRAEFIK_IMAGE overrides the default
// (not a config's traefik.image), e.g. for an image built in-house.
const (
	DefaultTraefikImage = "traefik:v3.6.12"
	EnvTraefikImage     = "DOCKER_KAMAL_TRAEFIK_IMAGE"
)

// proxyContainer is the Traefik container the sidecar runs on each host
// (pkg/traefik.DefaultContainerName; not imported to keep the plugin
// small, checked by a test).
const proxyContainer = "kamal-traefik"

// ErrNoProxyHost is a proxy command whose selection runs no proxied role.
var ErrNoProxyHost = errors.New("no selected host runs a role with a proxy")

// traefikImage is the Traefik image to run.
func (s *Session) traefikImage() string {
	if s.Cfg.Traefik != nil && s.Cfg.Traefik.Image != "" {
		return s.Cfg.Traefik.Image
	}
	if v := os.Getenv(EnvTraefikImage); v != "" {
		return v
	}
	return DefaultTraefikImage
}

// traefikRequest maps the config's traefik/proxy settings to the sidecar's.
func (s *Session) traefikRequest() contract.TraefikRequest {
	req := contract.TraefikRequest{Image: s.traefikImage(), Who: performer(), ACME: s.Cfg.ACME()}
	if t := s.Cfg.Traefik; t != nil {
		req.Args = t.Args
		req.Options = t.Options
		req.Labels = t.Labels
		req.Env = t.Env.Clear
		if t.HostPort != "" {
			// The config loader checked the port; a bad one keeps the default.
			if p, err := strconv.Atoi(strings.TrimSpace(t.HostPort)); err == nil {
				req.HTTPPort = p
			}
		}
		if t.Publish != nil && !*t.Publish {
			req.HTTPPort, req.HTTPSPort = -1, -1
		}
	}
	return req
}

// hostTraefikRequest is traefikRequest with the custom certificates of
// the roles on host: a key goes only to the hosts that serve it.
func (s *Session) hostTraefikRequest(host string) (contract.TraefikRequest, error) {
	req := s.traefikRequest()
	certs, err := s.Cfg.Certificates(host)
	if err != nil {
		return req, fmt.Errorf("traefik request for %s: %w", host, err)
	}
	req.Certificates = certs
	if req.Routes, err = s.accessoryRoutes(host); err != nil {
		return req, err
	}
	req.RoutesService = s.Cfg.Service
	if pb := s.Cfg.ProxyBoot(host); pb != nil {
		// Kamal 2 has no traefik: section, so nothing below overrides
		// a Kamal 1 setting.
		req.HTTPPort, req.HTTPSPort = pb.HTTPPort, pb.HTTPSPort
		req.Options, req.Labels, req.Host = pb.Options, pb.Labels, pb.Host
	}
	return req, nil
}

// proxyHostsAmong are the hosts among hosts that run a proxied role.
func (s *Session) proxyHostsAmong(hosts []string) []string {
	want := map[string]bool{}
	for _, h := range s.Cfg.ProxyHosts() {
		want[h] = true
	}
	var out []string
	for _, h := range hosts {
		if want[h] {
			out = append(out, h)
		}
	}
	return out
}

// ProxyHosts are the selected hosts that run a proxied role (an
// ErrNoProxyHost when there are none).
func (s *Session) ProxyHosts() ([]string, error) {
	hosts, err := s.serverHosts()
	if err != nil {
		return nil, err
	}
	hosts = s.proxyHostsAmong(hosts)
	if len(hosts) == 0 {
		return nil, ErrNoProxyHost
	}
	return hosts, nil
}

// bootTraefik ships the Traefik image and has each proxy host's sidecar
// boot Traefik (a no-op when it already runs with the same settings).
func (s *Session) bootTraefik(ctx context.Context, sh *shipper, hosts []string) error {
	hosts = s.proxyHostsAmong(hosts)
	if len(hosts) == 0 {
		return nil
	}
	img := s.traefikImage()
	if err := s.shipIfLocal(ctx, sh, img, hosts); err != nil {
		return err
	}
	// Every host at once: a boot is a container start on that host.
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			req, err := s.hostTraefikRequest(h)
			var cl *sidecarclient.Client
			if err == nil {
				cl, err = s.sidecar(ctx, h)
			}
			if err == nil {
				_, err = cl.BootTraefik(ctx, req)
			}
			if err != nil {
				errs[i] = fmt.Errorf("boot traefik on %s: %w", h, err)
				return
			}
			s.out.Step(h, "traefik "+img, "running", time.Since(t0))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ProxyBoot prepares the selected proxy hosts, ensures their sidecar,
// ships the Traefik image and has each sidecar boot Traefik.
func (s *Session) ProxyBoot(ctx context.Context) error {
	hosts, err := s.ProxyHosts()
	if err != nil {
		return err
	}
	if err := s.prepareHosts(ctx, hosts); err != nil {
		return err
	}
	sh := newShipper(s, hosts)
	defer sh.Close()
	if err := s.ensureSidecar(ctx, sh, hosts); err != nil {
		return err
	}
	return s.bootTraefik(ctx, sh, hosts)
}

// ProxyStart starts the proxy container on the selected proxy hosts.
func (s *Session) ProxyStart(ctx context.Context) error {
	return s.proxyDocker(ctx, transport.Quote("docker", "start", proxyContainer), "start")
}

// ProxyStop stops the proxy container; apps behind it stop being reachable.
func (s *Session) ProxyStop(ctx context.Context) error {
	return s.proxyDocker(ctx, transport.Quote("docker", "stop", proxyContainer), "stop")
}

// ProxyRestart restarts the proxy container.
func (s *Session) ProxyRestart(ctx context.Context) error {
	return s.proxyDocker(ctx, transport.Quote("docker", "restart", proxyContainer), "restart")
}

// ProxyRemove removes the proxy container from the selected proxy hosts.
func (s *Session) ProxyRemove(ctx context.Context) error {
	return s.proxyDocker(ctx, removeContainerCommand(proxyContainer), "remove")
}

func (s *Session) proxyDocker(ctx context.Context, cmd, op string) error {
	hosts, err := s.ProxyHosts()
	if err != nil {
		return err
	}
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		if _, err := c.Output(ctx, cmd); err != nil {
			return fmt.Errorf("%s proxy: %w", op, err)
		}
		s.out.Step(c.Host(), op+" proxy", "done", time.Since(t0))
		return nil
	})
}

// RollingWarning says plainly what a proxy reboot of hosts can and cannot
// promise.
func RollingWarning(hosts []string, rolling bool) string {
	switch {
	case len(hosts) == 1:
		return fmt.Sprintf("Warning: %s is the only proxy host: rebooting its proxy cannot be zero-downtime; requests fail for the seconds the new Traefik takes to start.", hosts[0])
	case rolling:
		return "Rebooting the proxy one host at a time: no request is dropped only if a load balancer in front stops sending traffic to each host while its proxy restarts; without one, clients of that host see errors for a few seconds."
	}
	return "Warning: rebooting the proxy on all hosts at once drops requests on every host while Traefik restarts; use --rolling behind a load balancer."
}

// ProxyReboot has each of hosts' sidecars replace Traefik with the
// config's: one host at a time with rolling, else all at once.
func (s *Session) ProxyReboot(ctx context.Context, hosts []string, rolling bool) error {
	reboot := func(ctx context.Context, h string) error {
		t0 := time.Now()
		req, err := s.hostTraefikRequest(h)
		if err != nil {
			return err
		}
		cl, err := s.sidecar(ctx, h)
		if err != nil {
			return err
		}
		st, err := cl.RebootTraefik(ctx, req)
		if err != nil {
			return fmt.Errorf("reboot proxy on %s: %w", h, err)
		}
		state := "not running"
		if st.Running {
			state = "running"
		}
		s.out.Step(h, "reboot proxy "+st.Image, state, time.Since(t0))
		return nil
	}
	if rolling {
		for _, h := range hosts {
			if err := s.aroundProxyReboot(ctx, []string{h}, func() error { return reboot(ctx, h) }); err != nil {
				return err
			}
		}
		return nil
	}
	return s.aroundProxyReboot(ctx, hosts, func() error { return rebootAll(ctx, hosts, reboot) })
}

// rebootAll reboots the proxy on every host at once.
func rebootAll(ctx context.Context, hosts []string, reboot func(context.Context, string) error) error {
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

func (s *Session) proxyStates(ctx context.Context, hosts []string) ([]proxyState, error) {
	states := map[string]proxyState{}
	var mu sync.Mutex
	err := s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		raw, err := c.Output(ctx, containerPSCommand(proxyContainer))
		if err != nil {
			return err
		}
		st := proxyState{Host: c.Host(), State: "missing"}
		if image, state, status, ports, ok := containerPS(raw); ok {
			st.Image, st.State, st.Status, st.Ports = image, state, status, ports
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

// ProxyDetails prints the proxy container of each selected proxy host.
func (s *Session) ProxyDetails(ctx context.Context, asJSON bool) error {
	hosts, err := s.ProxyHosts()
	if err != nil {
		return err
	}
	states, err := s.proxyStates(ctx, hosts)
	if asJSON {
		return errors.Join(err, writeJSON(s.Opts.Stdout, states))
	}
	rows := [][]string{{"HOST", "CONTAINER", "IMAGE", "STATE", "STATUS", "PORTS"}}
	for _, st := range states {
		rows = append(rows, []string{st.Host, proxyContainer, st.Image, st.State, st.Status, st.Ports})
	}
	return errors.Join(err, writeTable(s.Opts.Stdout, rows))
}

// ProxyLogs streams the proxy's log lines from each selected proxy host.
func (s *Session) ProxyLogs(ctx context.Context, o LogsOptions) error {
	hosts, err := s.ProxyHosts()
	if err != nil {
		return err
	}
	var srcs []logSource
	for _, h := range hosts {
		srcs = append(srcs, logSource{Host: h, Container: proxyContainer, Prefix: h})
	}
	return s.streamLogs(ctx, srcs, o)
}

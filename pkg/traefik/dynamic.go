package traefik

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/atomicfile"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/procnet"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// Tunables with their defaults.
const (
	// DefaultPollInterval is how often Confirm asks Traefik's API and Drain
	// counts Traefik's connections.
	DefaultPollInterval = 20 * time.Millisecond
	// apiTimeout bounds one API request.
	apiTimeout = 2 * time.Second
	// maxAPIBody bounds an API response read.
	maxAPIBody = 1 << 20
	// fileMode of written configuration files.
	fileMode = 0o644
)

// Dynamic is Traefik's dynamic configuration on this host: it writes a
// role's file-provider configuration into Dir and confirms it through
// Traefik's API at API. It is the swap.Router of the host.
//
// Drain: Traefik has no per-server count of open connections, so Drain
// counts them itself: the ESTABLISHED TCP connections in Traefik's network
// namespace (Sockets) whose remote end is an old server. After the cutover
// Traefik sends blue nothing new; a connection to blue is then a request in
// flight or an idle keep-alive connection, which Traefik closes after the
// role's servers transport idle timeout (pkg/traefik/routes sets 500 ms).
type Dynamic struct {
	// Dir is the directory Traefik's file provider watches.
	Dir string
	// API is the base URL of Traefik's API, e.g. "http://kamal-traefik:8080".
	API string
	// Sockets returns the TCP sockets of Traefik's network namespace (none
	// when Traefik does not run). Without it Drain returns at once.
	Sockets func(ctx context.Context) ([]procnet.Socket, error)
	// Client defaults to a client without keep-alive reuse limits.
	Client *http.Client
	// PollInterval defaults to DefaultPollInterval.
	PollInterval time.Duration
}

var _ swap.Router = (*Dynamic)(nil)

// Route writes the role's configuration with servers as its only backends.
func (dyn *Dynamic) Route(ctx context.Context, d *contract.Deploy, servers []swap.Server) error {
	data, err := Render(d, servers)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return atomicfile.WriteFileStaged(filepath.Join(dyn.Dir, FileName(d)), StagingDir(dyn.Dir), data, fileMode)
}

// StagingDir is where files bound for dynamicDir are written before they
// are renamed into it: beside it, so never listed by Traefik's watcher (see
// atomicfile.WriteFileStaged), and on its filesystem.
func StagingDir(dynamicDir string) string {
	dynamicDir = filepath.Clean(dynamicDir)
	return filepath.Join(filepath.Dir(dynamicDir), "."+filepath.Base(dynamicDir)+".staging")
}

// Unroute removes the role's configuration file.
func (dyn *Dynamic) Unroute(ctx context.Context, d *contract.Deploy) error {
	if err := atomicfile.Remove(filepath.Join(dyn.Dir, FileName(d))); err != nil {
		return fmt.Errorf("remove traefik config: %w", err)
	}
	return nil
}

// ErrDrainTimeout: connections to the old servers were still open when the
// drain's context ended. It wraps the context's error.
var ErrDrainTimeout = errors.New("connections still open")

// Drain returns once Traefik holds no ESTABLISHED connection to any of old,
// or ctx ends (an error wrapping ErrDrainTimeout and ctx's cause, with the
// count). Without Sockets it returns at once.
func (dyn *Dynamic) Drain(ctx context.Context, d *contract.Deploy, old []swap.Server) error {
	if dyn.Sockets == nil || len(old) == 0 {
		return nil
	}
	peers, err := drainPeers(d, old)
	if err != nil {
		return err
	}
	ticker := time.NewTicker(dyn.interval())
	defer ticker.Stop()
	open := -1
	for {
		socks, err := dyn.Sockets(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			return fmt.Errorf("drain %s: count traefik's connections: %w", contract.RouteName(d), err)
		case err == nil:
			if open = procnet.Count(socks, procnet.Established, peers); open == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d %w to %v: %w", open, ErrDrainTimeout, peers, context.Cause(ctx))
		case <-ticker.C:
		}
	}
}

// drainPeers are the addresses Traefik dials for old: their server URLs'
// hosts.
func drainPeers(d *contract.Deploy, old []swap.Server) ([]netip.AddrPort, error) {
	urls, err := ServerURLs(d, old)
	if err != nil {
		return nil, err
	}
	peers := make([]netip.AddrPort, 0, len(urls))
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("drain %s: server %q: %w", contract.RouteName(d), raw, err)
		}
		port := u.Port()
		if port == "" {
			port = "80"
			if u.Scheme == "https" {
				port = "443"
			}
		}
		ap, err := netip.ParseAddrPort(net.JoinHostPort(u.Hostname(), port))
		if err != nil {
			return nil, fmt.Errorf("drain %s: server %q: %w", contract.RouteName(d), raw, err)
		}
		peers = append(peers, ap)
	}
	return peers, nil
}

func (dyn *Dynamic) interval() time.Duration {
	if dyn.PollInterval > 0 {
		return dyn.PollInterval
	}
	return DefaultPollInterval
}

// Confirm polls Traefik's API until the role's service has exactly the
// servers' URLs, or ctx ends; the error then says what Traefik last showed.
func (dyn *Dynamic) Confirm(ctx context.Context, d *contract.Deploy, servers []swap.Server) error {
	want, err := ServerURLs(d, servers)
	if err != nil {
		return err
	}
	slices.Sort(want)
	ticker := time.NewTicker(dyn.interval())
	defer ticker.Stop()
	var last string
	for {
		got, err := dyn.ServiceServers(ctx, contract.RouteName(d)+"@file")
		switch {
		case err != nil:
			// A poll cut short by ctx says less than the one before it.
			if ctx.Err() == nil || last == "" {
				last = err.Error()
			}
		case slices.Equal(got, want):
			return nil
		default:
			last = fmt.Sprintf("servers %v", got)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("confirm %s@file serves %v: %w (traefik last showed: %s)", contract.RouteName(d), want, context.Cause(ctx), last)
		case <-ticker.C:
		}
	}
}

// ErrServiceNotFound: Traefik does not (yet) know the service.
var ErrServiceNotFound = errors.New("service not found in traefik")

// ServiceServers returns the sorted server URLs Traefik currently serves for
// service ("name@provider").
func (dyn *Dynamic) ServiceServers(ctx context.Context, service string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	u := strings.TrimRight(dyn.API, "/") + "/api/http/services/" + url.PathEscape(service)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("query traefik service %s: %w", service, err)
	}
	c := dyn.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query traefik service %s: %w", service, err)
	}
	// Read to the limit below: closing the body cannot fail the query.
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		return nil, fmt.Errorf("query traefik service %s: %w", service, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("query traefik service %s: %w", service, ErrServiceNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query traefik service %s: %s", service, resp.Status)
	}
	var s struct {
		LoadBalancer *struct {
			Servers []struct {
				URL string `json:"url"`
			} `json:"servers"`
		} `json:"loadBalancer"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("query traefik service %s: decode: %w", service, err)
	}
	if s.LoadBalancer == nil {
		return nil, fmt.Errorf("query traefik service %s: not a load balancer", service)
	}
	out := []string{}
	for _, sv := range s.LoadBalancer.Servers {
		out = append(out, sv.URL)
	}
	slices.Sort(out)
	return out, nil
}

package traefik

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/atomicfile"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// Tunables with their defaults.
const (
	// DefaultPollInterval is how often Confirm asks Traefik's API.
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
// Drain: Traefik does not expose in-flight requests per server, so Drain
// returns at once. Requests already proxied to blue are not cut by the
// configuration change (Traefik keeps the old handler for them); blue gets
// SIGTERM afterwards and finishes them within the stop timeout (DESIGN:
// a 3 s request in flight on the old server completed with 200).
type Dynamic struct {
	// Dir is the directory Traefik's file provider watches.
	Dir string
	// API is the base URL of Traefik's API, e.g. "http://kamal-traefik:8080".
	API string
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
	return atomicfile.WriteFile(filepath.Join(dyn.Dir, FileName(d)), data, fileMode)
}

// Unroute removes the role's configuration file.
func (dyn *Dynamic) Unroute(ctx context.Context, d *contract.Deploy) error {
	if err := atomicfile.Remove(filepath.Join(dyn.Dir, FileName(d))); err != nil {
		return fmt.Errorf("remove traefik config: %w", err)
	}
	return nil
}

// Drain returns at once; see the type's documentation.
func (dyn *Dynamic) Drain(ctx context.Context, d *contract.Deploy, old []swap.Server) error {
	return nil
}

// Confirm polls Traefik's API until the role's service has exactly the
// servers' URLs, or ctx ends; the error then says what Traefik last showed.
func (dyn *Dynamic) Confirm(ctx context.Context, d *contract.Deploy, servers []swap.Server) error {
	want, err := ServerURLs(d, servers)
	if err != nil {
		return err
	}
	slices.Sort(want)
	interval := dyn.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	ticker := time.NewTicker(interval)
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

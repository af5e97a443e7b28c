package sidecar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// confirmTimeout bounds confirming a route outside a swap.
const confirmTimeout = 15 * time.Second

// missingError: a container the journal names is gone from the host.
type missingError struct{ container string }

func (e *missingError) Error() string { return "container " + e.container + " is missing" }

// isMissing reports whether err says a container is gone.
func isMissing(err error) bool {
	var m *missingError
	return errors.As(err, &m)
}

// inspect returns the container called name; a missing one is a
// *missingError.
func (s *Server) inspect(ctx context.Context, name string) (docker.Container, error) {
	c, err := s.deps.Containers.Inspect(ctx, name)
	if docker.IsNotFound(err) {
		return docker.Container{}, &missingError{container: name}
	}
	if err != nil {
		return docker.Container{}, fmt.Errorf("inspect %s: %w", name, err)
	}
	return c, nil
}

// route points d's role at c alone and waits until the proxy serves it,
// addressing c as a swap does (swap.ServerFor). A role without a proxy is a
// no-op.
func (s *Server) route(ctx context.Context, d *contract.Deploy, c docker.Container) error {
	if d.Proxy == nil {
		return nil
	}
	servers := []swap.Server{swap.ServerFor(d, c)}
	if err := s.deps.Router.Route(ctx, d, servers); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	return s.deps.Router.Confirm(cctx, d, servers)
}

// startServing starts container, waits until it is healthy, and routes d's
// role to it. It reports whether the container was started.
func (s *Server) startServing(ctx context.Context, d *contract.Deploy, container string) (bool, error) {
	if err := s.deps.Containers.Start(ctx, container); err != nil {
		return false, fmt.Errorf("start %s: %w", container, err)
	}
	// Inspect after the start: a restarted container may have a new address.
	c, err := s.inspect(ctx, container)
	if err != nil {
		return true, err
	}
	if err := s.deps.Prober.Ready(ctx, d, c); err != nil {
		return true, fmt.Errorf("wait for %s healthy: %w", container, err)
	}
	if err := s.route(ctx, d, c); err != nil {
		return true, fmt.Errorf("route %s: %w", container, err)
	}
	return true, nil
}

// specOf is the redacted spec container was started with.
func (s *Server) specOf(ctx context.Context, container string) (*contract.Deploy, error) {
	c, err := s.inspect(ctx, container)
	if err != nil {
		return nil, err
	}
	return swap.SpecOf(c)
}

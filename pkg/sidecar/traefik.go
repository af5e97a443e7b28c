package sidecar

import (
	"context"
	"errors"

	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarapi"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// errNoTraefik: routing is not wired to pkg/traefik in this build yet.
var errNoTraefik = errors.New("traefik routing is not available in this sidecar build")

// newTraefik builds the Traefik router (dynamic config writer + API
// confirm) and the Traefik booter.
func newTraefik(_ context.Context, cfg Config, dc *docker.Client) (swap.Router, Proxy, error) {
	booter := &traefikBooter{d: dc, network: cfg.Network, specFor: func(sidecarapi.TraefikRequest) (docker.ContainerSpec, error) {
		return docker.ContainerSpec{}, errNoTraefik
	}}
	return unwiredRouter{}, booter, nil
}

// unwiredRouter fails every routing call.
type unwiredRouter struct{}

func (unwiredRouter) Route(context.Context, *spec.Deploy, []swap.Server) error   { return errNoTraefik }
func (unwiredRouter) Confirm(context.Context, *spec.Deploy, []swap.Server) error { return errNoTraefik }
func (unwiredRouter) Drain(context.Context, *spec.Deploy, []swap.Server) error   { return nil }
func (unwiredRouter) Unroute(context.Context, *spec.Deploy) error                { return errNoTraefik }

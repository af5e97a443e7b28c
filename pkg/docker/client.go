// Package docker is the small Docker Engine client the sidecar uses: the
// container, network and image calls of a blue/green swap, over the local unix
// socket. It wraps github.com/moby/moby/client (which negotiates down to the
// engine's API version; Docker 20.10 speaks 1.41) and exposes plain types so
// that callers and their fakes never see the moby types.
package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Tunables.
const (
	// DefaultHost is the engine socket used when New is given no host and
	// DOCKER_HOST is unset.
	DefaultHost = "unix:///var/run/docker.sock"
	// pingTimeout bounds the version negotiation in New.
	pingTimeout = 10 * time.Second
	// maxLogBytes bounds what Logs reads.
	maxLogBytes = 1 << 20
)

// ErrNotFound is returned (wrapped) when a container, image or network does
// not exist. Test with errors.Is or IsNotFound.
var ErrNotFound = errors.New("not found")

// Client talks to one Docker engine.
type Client struct {
	api        *client.Client
	apiVersion string
}

// New connects to host ("unix:///path" or "tcp://..."; empty means
// DOCKER_HOST or DefaultHost) and negotiates the API version.
func New(ctx context.Context, host string) (*Client, error) {
	opts := []client.Opt{client.FromEnv}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	api, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("create docker client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	p, err := api.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true})
	if err != nil {
		_ = api.Close() // failing already: the ping error is the one to report
		return nil, fmt.Errorf("ping docker engine: %w", err)
	}
	return &Client{api: api, apiVersion: p.APIVersion}, nil
}

// APIVersion is the negotiated engine API version, e.g. "1.41".
func (c *Client) APIVersion() string { return c.apiVersion }

// Ping checks the engine answers.
func (c *Client) Ping(ctx context.Context) error {
	if _, err := c.api.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("ping docker engine: %w", err)
	}
	return nil
}

// Close releases the client's connections.
func (c *Client) Close() error { return c.api.Close() }

// IsNotFound reports whether err says an object does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || cerrdefs.IsNotFound(err)
}

// wrap turns engine errors into "verb noun: err", with ErrNotFound joined in
// for missing objects so callers can test with errors.Is.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

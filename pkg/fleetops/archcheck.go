package fleetops

// Before the app image ships, its architecture is compared with each
// host's (docker info over SSH): an image that cannot run there is refused
// with what to do, instead of failing to start on the host.

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/build"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// checkArch refuses image (in the engine of flags) for any of hosts whose
// engine runs another architecture: an *build.ArchMismatchError per host.
func (s *Session) checkArch(ctx context.Context, flags []string, image string, hosts []string) error {
	imageArch, err := build.ImageArch(ctx, flags, image)
	if err != nil {
		return err
	}
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		hostArch, err := s.engineArch(ctx, c)
		if err != nil {
			return err
		}
		return build.CheckArch(c.Host(), hostArch, image, imageArch)
	})
}

// engineArch is the architecture of c's host's engine, read once per
// command.
func (s *Session) engineArch(ctx context.Context, c *transport.Conn) (string, error) {
	if v, ok := s.hostArch.Load(c.Host()); ok {
		return v.(string), nil
	}
	cctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	out, err := c.Output(cctx, "docker info --format '{{.Architecture}}'")
	if err != nil {
		return "", fmt.Errorf("read the docker architecture of %s: %w", c.Host(), err)
	}
	arch := build.NormalizeArch(strings.TrimSpace(string(out)))
	s.hostArch.Store(c.Host(), arch)
	return arch, nil
}

package fleetops

import (
	"context"
	"errors"

	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Remove removes this service and destination's app containers and
// images, the proxy and every accessory (with its data) from the hosts.
func (s *Session) Remove(ctx context.Context) error {
	var errs []error
	errs = append(errs, s.AppRemove(ctx))
	if hosts, err := s.ProxyHosts(); err == nil {
		errs = append(errs, s.eachHost(ctx, hosts, func(ctx context.Context, conn *transport.Conn) error {
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
			defer cancel()
			if _, err := conn.Output(ctx, removeContainerCommand(proxyContainer)); err != nil {
				return err
			}
			s.out.Step(conn.Host(), "remove proxy", "removed", 0)
			return nil
		}))
	}
	if list, err := s.accessories("all"); err == nil {
		for _, a := range list {
			if hosts := s.accessoryHosts(a); len(hosts) > 0 {
				errs = append(errs, s.removeAccessory(ctx, a, hosts))
			}
		}
	}
	return errors.Join(errs...)
}

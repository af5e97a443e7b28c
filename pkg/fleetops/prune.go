package fleetops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// ErrNegativeRetain is a prune asked to keep fewer than no containers.
var ErrNegativeRetain = errors.New("prune: --retain must not be negative")

// DefaultRetain is how many stopped containers per role a prune keeps:
// the config's retain_containers, else the sidecar's default.
func (s *Session) DefaultRetain() int {
	if s.Cfg.RetainContainers > 0 {
		return s.Cfg.RetainContainers
	}
	return contract.DefaultRetainContainers
}

// pruneCandidates are the stopped containers beyond the newest retain of
// each role. cs holds one service and destination only (parsePS), newest
// first; running containers are never candidates.
func pruneCandidates(cs []container, retain int) []container {
	kept := map[string]int{}
	var out []container
	for _, c := range cs {
		if c.State == "running" || c.State == "restarting" {
			continue
		}
		if kept[c.Role] < retain {
			kept[c.Role]++
			continue
		}
		out = append(out, c)
	}
	return out
}

// PruneContainers removes the app's stopped containers on the selected
// hosts beyond the newest retain of each role.
func (s *Session) PruneContainers(ctx context.Context, retain int) error {
	if retain < 0 {
		return ErrNegativeRetain
	}
	hosts, err := s.selectedHosts()
	if err != nil {
		return err
	}
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		cs, err := listContainers(ctx, c, s.Cfg.Service, s.Cfg.Destination, "")
		if err != nil {
			return err
		}
		var names []string
		for _, ct := range pruneCandidates(cs, retain) {
			names = append(names, ct.Name)
		}
		if len(names) > 0 {
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
			defer cancel()
			if _, err := c.Output(ctx, transport.Quote(append([]string{"docker", "rm"}, names...)...)); err != nil {
				return fmt.Errorf("remove containers: %w", err)
			}
		}
		s.out.Step(c.Host(), "prune containers", fmt.Sprintf("removed %d, kept %d", len(names), len(cs)-len(names)), 0)
		return nil
	})
}

// pruneImagesScript removes every tag of the app's repository except
// latest; docker refuses to remove an image a container (running or kept
// for rollback, of any destination) still uses, so those stay. Dangling
// images of the service go too. It prints what it removed.
func pruneImagesScript(repo, service string) string {
	return "for i in $(docker image ls --format '{{.Repository}}:{{.Tag}}' " + transport.Quote(repo) + " | grep -v -e ':latest$' -e ':<none>$'); do " +
		`docker image rm "$i" >/dev/null 2>&1 && echo "$i"; done; ` +
		"docker image prune --force --filter " + transport.Quote("label=service="+service) + " >/dev/null 2>&1; true"
}

// PruneImages removes the app's images on the selected hosts that no
// container uses, but latest.
func (s *Session) PruneImages(ctx context.Context) error {
	hosts, err := s.selectedHosts()
	if err != nil {
		return err
	}
	repo := s.imageRepo()
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		out, err := c.Output(ctx, pruneImagesScript(repo, s.Cfg.Service))
		if err != nil {
			return fmt.Errorf("prune images: %w", err)
		}
		removed := strings.Fields(string(out))
		status := "nothing to remove"
		if len(removed) > 0 {
			status = "removed " + strings.Join(removed, ", ")
		}
		s.out.Step(c.Host(), "prune images", status, 0)
		return nil
	})
}

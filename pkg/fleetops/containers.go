package fleetops

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// psFormat prints one tab-separated line per container with the labels
// the sidecar sets; labels are matched here, not with docker filters, so
// an empty destination never matches another destination's containers.
const psFormat = `{{.ID}}\t{{.Names}}\t{{.Label "` + contract.LabelRole + `"}}\t{{.Label "` + contract.LabelDestination + `"}}\t{{.Label "` +
	contract.LabelVersion + `"}}\t{{.State}}\t{{.Image}}\t{{.Status}}`

// container is one app container on a host, as `docker ps` lists it.
type container struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	Destination string `json:"destination,omitempty"`
	Version     string `json:"version"`
	State       string `json:"state"`
	Image       string `json:"image"`
	Status      string `json:"status"`
}

// psCommand lists every container of service, newest first.
func psCommand(service string) string {
	return "docker ps -a --no-trunc --filter " + transport.Quote("label="+contract.LabelService+"="+service) + " --format " + transport.Quote(psFormat)
}

// parsePS reads psCommand's output and keeps destination's containers
// (and role's, when role is not empty), in docker's order (newest first).
func parsePS(out, destination, role string) []container {
	var cs []container
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), "\t")
		if len(f) != 8 {
			continue
		}
		c := container{ID: f[0], Name: f[1], Role: f[2], Destination: f[3], Version: f[4], State: f[5], Image: f[6], Status: f[7]}
		if c.Destination != destination || role != "" && c.Role != role {
			continue
		}
		cs = append(cs, c)
	}
	return cs
}

// listContainers lists this service and destination's app containers on
// the host (role "" for all roles).
func listContainers(ctx context.Context, c *transport.Conn, service, destination, role string) ([]container, error) {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	out, err := c.Output(ctx, psCommand(service))
	if err != nil {
		return nil, fmt.Errorf("list containers on %s: %w", c.Host(), err)
	}
	return parsePS(string(out), destination, role), nil
}

// current is the container a command acts on for a role: the running one
// (newest if several), else the newest.
func current(cs []container) (container, bool) {
	for _, c := range cs {
		if c.State == "running" {
			return c, true
		}
	}
	if len(cs) > 0 {
		return cs[0], true
	}
	return container{}, false
}

// running keeps the running containers.
func running(cs []container) []container {
	var out []container
	for _, c := range cs {
		if c.State == "running" {
			out = append(out, c)
		}
	}
	return out
}

package docker

import (
	"context"

	"github.com/moby/moby/client"
)

// Network is what callers need to know about a network.
type Network struct {
	ID     string
	Name   string
	Labels map[string]string
	// Containers maps container ID to its IPv4 address on the network.
	Containers map[string]string
}

// NetworkInspect returns a network by name or ID.
func (c *Client) NetworkInspect(ctx context.Context, name string) (Network, error) {
	res, err := c.api.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err != nil {
		return Network{}, wrap("inspect network "+name, err)
	}
	n := res.Network
	out := Network{ID: n.ID, Name: n.Name, Labels: n.Labels, Containers: map[string]string{}}
	for id, ep := range n.Containers {
		if ep.IPv4Address.IsValid() {
			out.Containers[id] = ep.IPv4Address.Addr().String()
		}
	}
	return out, nil
}

// NetworkCreate creates a bridge network.
func (c *Client) NetworkCreate(ctx context.Context, name string, labels map[string]string) (string, error) {
	res, err := c.api.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	if err != nil {
		return "", wrap("create network "+name, err)
	}
	return res.ID, nil
}

// NetworkEnsure creates the bridge network unless it exists and returns its ID.
func (c *Client) NetworkEnsure(ctx context.Context, name string, labels map[string]string) (string, error) {
	n, err := c.NetworkInspect(ctx, name)
	if err == nil {
		return n.ID, nil
	}
	if !IsNotFound(err) {
		return "", err
	}
	id, err := c.NetworkCreate(ctx, name, labels)
	if err != nil {
		// Lost a race with another creator: take theirs.
		if n, ierr := c.NetworkInspect(ctx, name); ierr == nil {
			return n.ID, nil
		}
		return "", err
	}
	return id, nil
}

// NetworkRemove removes a network.
func (c *Client) NetworkRemove(ctx context.Context, name string) error {
	_, err := c.api.NetworkRemove(ctx, name, client.NetworkRemoveOptions{})
	return wrap("remove network "+name, err)
}

package swap

import (
	"cmp"
	"context"
	"slices"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Versions lists the role's containers: running first, then retained ones
// newest (last stopped) first. Live means running here; the sidecar knows
// which one the proxy routes to.
func (e *Engine) Versions(ctx context.Context, role contract.Role) ([]contract.Version, error) {
	cs, err := e.roleContainers(ctx, role)
	if err != nil {
		return nil, err
	}
	cs, err = e.inspectAll(ctx, cs)
	if err != nil {
		return nil, err
	}
	sortNewest(cs)
	out := make([]contract.Version, len(cs))
	for i, c := range cs {
		out[i] = contract.Version{
			Version: c.Labels[contract.LabelVersion], Container: c.Name, State: c.State,
			Live: serving(c), Created: c.Created, Image: c.Image,
		}
	}
	return out, nil
}

// inspectAll fills stop times (List does not report them). Containers that
// vanished meanwhile are dropped.
func (e *Engine) inspectAll(ctx context.Context, cs []docker.Container) ([]docker.Container, error) {
	out := make([]docker.Container, 0, len(cs))
	for _, c := range cs {
		full, err := e.Docker.Inspect(ctx, c.ID)
		if docker.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, full)
	}
	return out, nil
}

// sortNewest orders serving containers first, then by stop time, then by
// creation, newest first.
func sortNewest(cs []docker.Container) {
	slices.SortStableFunc(cs, func(a, b docker.Container) int {
		if sa, sb := serving(a), serving(b); sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		if c := b.FinishedAt.Compare(a.FinishedAt); c != 0 {
			return c
		}
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

// PruneCandidates returns the stopped containers beyond the newest keep,
// never a serving one nor one in protect (IDs). cs must be one role's
// containers of one service and destination.
func PruneCandidates(cs []docker.Container, keep int, protect ...string) []docker.Container {
	var stopped []docker.Container
	for _, c := range cs {
		if !serving(c) && !slices.Contains(protect, c.ID) {
			stopped = append(stopped, c)
		}
	}
	sortNewest(stopped)
	if len(stopped) <= keep {
		return nil
	}
	return stopped[keep:]
}

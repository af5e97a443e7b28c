package swap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// VersionInfo is one container of a role, running or retained.
type VersionInfo struct {
	Version   string    `json:"version"`
	Container string    `json:"container"`
	ID        string    `json:"id"`
	State     string    `json:"state"`
	Running   bool      `json:"running"`
	Health    string    `json:"health,omitempty"`
	Image     string    `json:"image"`
	Created   time.Time `json:"created"`
	Finished  time.Time `json:"finished,omitzero"`
}

// Versions lists the role's containers: running first, then retained ones
// newest (last stopped) first.
func (e *Engine) Versions(ctx context.Context, service, destination, role string) ([]VersionInfo, error) {
	cs, err := e.roleContainers(ctx, service, destination, role)
	if err != nil {
		return nil, err
	}
	cs, err = e.inspectAll(ctx, cs)
	if err != nil {
		return nil, err
	}
	sortNewest(cs)
	out := make([]VersionInfo, len(cs))
	for i, c := range cs {
		out[i] = VersionInfo{
			Version: c.Labels[contract.LabelVersion], Container: c.Name, ID: c.ID, State: c.State,
			Running: serving(c), Health: c.Health, Image: c.Image, Created: c.Created, Finished: c.FinishedAt,
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

func (r *run) prune(ctx context.Context) error {
	cs, err := r.e.roleContainers(ctx, r.d.Service, r.d.Destination, r.d.Role)
	if err != nil {
		return err
	}
	cs, err = r.e.inspectAll(ctx, cs)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range PruneCandidates(cs, r.d.RetainContainers, r.green.ID) {
		if err := r.e.Docker.Remove(ctx, c.ID, false); err != nil && !docker.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("prune %s: %w", c.Name, err))
			continue
		}
		r.res.Pruned = append(r.res.Pruned, c.Name)
	}
	return errors.Join(errs...)
}

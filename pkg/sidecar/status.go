package sidecar

import (
	"context"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Status reports every role the journal knows, with the live container's
// health checked now: its docker state, then its health probe.
func (s *Server) Status(ctx context.Context) contract.Status {
	recs := s.table.list()
	out := contract.Status{Sidecar: s.version, Time: s.now().UTC(), Ready: s.ready.Load(), Roles: make([]contract.RoleStatus, len(recs))}
	var wg sync.WaitGroup
	for i, rec := range recs {
		rs := contract.RoleStatus{
			Role: rec.Role, LiveVersion: rec.LiveVersion, Container: rec.LiveContainer,
			LastResult: rec.LastResult, LastAction: rec.LastAction, LastVersion: rec.LastVersion,
			LastError: rec.LastError, LastDeployAt: rec.LastAt, Health: contract.HealthUnknown,
		}
		if rec.Swap != nil && rec.Swap.State == swapRunning {
			// Under way, or interrupted and waiting for reconcile.
			rs.InProgress = rec.Swap.Step
			if rs.InProgress == "" {
				rs.InProgress = rec.Swap.Action
			}
		} else if a := s.table.busyAction(rec.Role); a != "" {
			rs.InProgress = a
		}
		out.Roles[i] = rs
		if rec.LiveContainer == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.Roles[i].Health = s.health(ctx, rec)
		}()
	}
	wg.Wait()
	lock, err := s.lock.Status()
	if err != nil {
		s.log.Error("read lock for status", "err", err)
	}
	out.Lock = lock
	return out
}

// health checks rec's live container now.
func (s *Server) health(ctx context.Context, rec RoleRecord) string {
	ctx, cancel := context.WithTimeout(ctx, statusProbeTimeout)
	defer cancel()
	c, err := s.inspect(ctx, rec.LiveContainer)
	switch {
	case isMissing(err):
		return contract.HealthMissing
	case err != nil:
		return contract.HealthUnknown
	case !c.Running():
		return contract.HealthStopped
	case c.Health == docker.HealthUnhealthy:
		return contract.HealthUnhealthy
	}
	if rec.LiveSpec == nil {
		return contract.HealthHealthy
	}
	if err := s.deps.Prober.Check(ctx, rec.LiveSpec, c); err != nil {
		return contract.HealthUnhealthy
	}
	return contract.HealthHealthy
}

package fleetops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// AppStart starts the selected roles' live containers again.
func (s *Session) AppStart(ctx context.Context) error { return s.roleOp(ctx, "start") }

// AppStop stops the selected roles' live containers.
func (s *Session) AppStop(ctx context.Context) error { return s.roleOp(ctx, "stop") }

// roleOp stops or starts the selected roles' live containers through each
// host's sidecar, which keeps its journal and Traefik in step.
func (s *Session) roleOp(ctx context.Context, op string) error {
	targets, _, err := s.targets()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			resp, err := s.roleRequest(ctx, t, op)
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s %s on %s: %w", op, t.Role, t.Host, err))
				mu.Unlock()
				return
			}
			state := "stopped"
			if resp.Running {
				state = "running"
			}
			s.out.Step(t.Host, op+" "+t.Role+" "+resp.Version, state, time.Since(t0))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// roleRequest asks t's sidecar to stop or start t's live container.
func (s *Session) roleRequest(ctx context.Context, t fleet.Target, op string) (*contract.RoleResponse, error) {
	cl, err := s.sidecar(ctx, t.Host)
	if err != nil {
		return nil, err
	}
	req := contract.RoleRequest{Role: s.role(t.Role), Who: performer()}
	if op == "stop" {
		return cl.StopRole(ctx, req)
	}
	return cl.StartRole(ctx, req)
}

// AppBoot (re)starts the app at --version (default: each role's live
// version) through the sidecar's zero-downtime swap, primary first, under
// the deploy lock (waiting up to lockWait for it).
func (s *Session) AppBoot(ctx context.Context, lockWait time.Duration) error {
	plan, err := s.plan()
	if err != nil {
		return err
	}
	targets := plan.Targets()
	versions := map[fleet.Target]string{}
	for _, t := range targets {
		v := s.Opts.Version
		if v == "" {
			if v, err = s.liveVersion(ctx, t); err != nil {
				return err
			}
		}
		if v == "" {
			return fmt.Errorf("app boot: %s on %s has no live version; pass --version", t.Role, t.Host)
		}
		versions[t] = v
	}
	lk := &locker{s: s, wait: lockWait}
	if err := lk.Acquire(ctx, "app boot", s.Opts.Version); err != nil {
		return fmt.Errorf("acquire deploy lock: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if err := lk.Release(cctx); err != nil {
			s.out.Error("release deploy lock: %v", err)
		}
	}()
	for _, t := range targets {
		t0 := time.Now()
		d := &sidecarDeployer{s: s, version: versions[t], image: s.imageRef(versions[t])}
		if err := d.Deploy(ctx, t); err != nil {
			return err
		}
		s.out.Step(t.Host, "boot "+t.Role, versions[t], time.Since(t0))
	}
	return nil
}

// removeAppScript stops and removes every container of the service and
// destination (given by name) and the app's images no container uses.
func removeAppScript(names []string, imageRepo string) string {
	script := ""
	if len(names) > 0 {
		script = "docker rm -f " + transport.Quote(names...) + " >/dev/null; "
	}
	return script + "ids=$(docker image ls -q " + transport.Quote(imageRepo) + "); " +
		`[ -z "$ids" ] || docker image rm $ids >/dev/null 2>&1; true`
}

// AppRemove stops each selected role through its sidecar (so it stops
// routing to it) and removes the containers and images.
func (s *Session) AppRemove(ctx context.Context) error {
	sel, err := s.Cfg.Select(s.Opts.Filter)
	if err != nil {
		return err
	}
	targets, _, err := s.targets()
	if err != nil {
		return err
	}
	for _, t := range targets {
		if cl, err := s.sidecar(ctx, t.Host); err == nil {
			// Nothing live is fine: there is nothing to stop.
			_, _ = cl.StopRole(ctx, contract.RoleRequest{Role: s.role(t.Role), Who: performer()})
		}
	}
	selected := map[string]bool{}
	for _, r := range sel.Roles {
		selected[r.Name] = true
	}
	return s.eachHost(ctx, sel.AllHosts(), func(ctx context.Context, conn *transport.Conn) error {
		cs, err := listContainers(ctx, conn, s.Cfg.Service, s.Cfg.Destination, "")
		if err != nil {
			return err
		}
		var names []string
		for _, ct := range cs {
			if selected[ct.Role] {
				names = append(names, ct.Name)
			}
		}
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		if out, err := conn.Output(ctx, removeAppScript(names, s.imageRepo())); err != nil {
			return fmt.Errorf("remove app: %w: %s", err, out)
		}
		s.out.Step(conn.Host(), "remove app", fmt.Sprintf("%d container(s) removed", len(names)), 0)
		return nil
	})
}

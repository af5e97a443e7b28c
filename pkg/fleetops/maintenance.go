package fleetops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// maintenanceTimeout bounds one host's switch.
const maintenanceTimeout = time.Minute

// AppMaintenance has Traefik answer the selected proxied roles with the
// sidecar's 503 page, showing message; deploys meanwhile keep it up.
func (s *Session) AppMaintenance(ctx context.Context, message string) error {
	return s.setMaintenance(ctx, true, message)
}

// AppLive ends maintenance: Traefik routes to the live containers again.
func (s *Session) AppLive(ctx context.Context) error {
	return s.setMaintenance(ctx, false, "")
}

// setMaintenance switches every selected proxied role.
func (s *Session) setMaintenance(ctx context.Context, on bool, message string) error {
	targets, _, err := s.targets()
	if err != nil {
		return err
	}
	proxied := map[string]bool{}
	for _, r := range s.Cfg.Roles {
		proxied[r.Name] = r.Proxy != nil
	}
	state := "live"
	if on {
		state = "maintenance"
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	n := 0
	for _, t := range targets {
		if !proxied[t.Role] {
			continue
		}
		n++
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			cctx, cancel := context.WithTimeout(ctx, maintenanceTimeout)
			defer cancel()
			cl, err := s.sidecar(cctx, t.Host)
			if err == nil {
				_, err = cl.Maintenance(cctx, contract.MaintenanceRequest{Role: s.role(t.Role), On: on, Message: message, Who: performer()})
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s %s on %s: %w", state, t.Role, t.Host, err))
				mu.Unlock()
				return
			}
			s.out.Step(t.Host, t.Role, state, time.Since(t0))
		}()
	}
	wg.Wait()
	if n == 0 {
		return fmt.Errorf("app %s: no selected role runs behind the proxy", state)
	}
	return errors.Join(errs...)
}

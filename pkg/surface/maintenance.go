package surface

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
)

// maintenanceTimeout bounds one host's switch.
const maintenanceTimeout = time.Minute

func registerMaintenance() {
	command.RegisterFlags("app maintenance", &cli.StringFlag{Name: "message", Usage: "message shown on the 503 page"})
	command.Register("app maintenance", handler(func(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
		return setMaintenance(ctx, s, true, c.String("message"))
	}))
	command.Register("app live", handler(func(ctx context.Context, s *fleetcmd.Session, _ *cli.Context) error {
		return setMaintenance(ctx, s, false, "")
	}))
}

// setMaintenance switches every selected proxied role: in maintenance,
// Traefik answers with the sidecar's 503 page (deploys meanwhile keep it
// up); live routes to the live container again.
func setMaintenance(ctx context.Context, s *fleetcmd.Session, on bool, message string) error {
	targets, _, err := s.Targets()
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
			cl, err := s.Sidecar(cctx, t.Host)
			if err == nil {
				_, err = cl.Maintenance(cctx, contract.MaintenanceRequest{Role: s.Role(t.Role), On: on, Message: message, Who: fleetcmd.Performer()})
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s %s on %s: %w", state, t.Role, t.Host, err))
				mu.Unlock()
				return
			}
			s.Out.Step(t.Host, t.Role, state, time.Since(t0))
		}()
	}
	wg.Wait()
	if n == 0 {
		return fmt.Errorf("app %s: no selected role runs behind the proxy", state)
	}
	return errors.Join(errs...)
}

package bench

import (
	"context"
	"fmt"
	"time"
)

// kamalSetup2 is Kamal 2.12's setup of 2 hosts (kamal-proxy's image already
// on them, the app pre-pushed to a registry), measured outside the project
// on the same kind of hosts (../shared/DESIGN.md): Kamal cannot run here
// side by side, its proxy image being in no registry this machine reaches.
const kamalSetup2 = 5.3

// benchSetup2 times docker kamal setup of 2 blank hosts the way Kamal's
// figure was taken: the proxy's image (Traefik, for us) already on each
// host, the app shipped; the sidecar ships and starts as part of setup.
func (e *env) benchSetup2(ctx context.Context, s *Scenario) error {
	e.logf("    starting 2 harness hosts")
	f, err := e.startFleet(ctx, 2)
	if err != nil {
		return err
	}
	defer e.closeFleet(f)
	if err := f.LoadImage(ctx, e.images.traefik); err != nil {
		return fmt.Errorf("preload Traefik: %w", err)
	}
	dir, err := e.fanoutApp(f)
	if err != nil {
		return err
	}
	r := e.kamal(ctx, dir, "-v", "setup", "--skip-push", "--version", "v1")
	if r.Err != nil {
		return r.Err
	}
	for _, h := range f.Hosts {
		if err := waitServes(ctx, f, h, "", "v1", 30*time.Second); err != nil {
			return err
		}
	}
	took := secs(r.Took)
	s.Add("setup of 2 blank hosts, Traefik's image on them", "s", []float64{took}, AtMost(kamalSetup2))
	s.Add("ratio to Kamal 2.12's 5.3 s (not side by side)", "x", []float64{took / kamalSetup2}, nil)
	phases, parts := Phases(r)
	s.Phases = append(phases, parts...)
	s.Note("Kamal's figure is from ../shared/DESIGN.md (2 hosts, kamal-proxy's image on them, the app pulled from a registry), measured outside the project: Kamal's proxy image is in no registry here, so it cannot run beside us; ours ships the app (the sample app, ~100 MB) and the sidecar over SSH, starts the sidecar and Traefik, then deploys v1")
	return nil
}

package bench

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// The naive baseline's names on a host.
const (
	naiveContainer = "bench-naive"
	benchTraefik   = "bench-traefik"
	// kamalTraefik is the Traefik container the sidecar runs.
	kamalTraefik = "kamal-traefik"
	// traefikDynamicMount is where Traefik reads its file provider.
	traefikDynamicMount = "/etc/traefik/dynamic"
	naiveNetwork        = "kamal"
)

const naiveDynamic = "http:\n" +
	"  routers:\n" +
	"    bench-naive:\n" +
	"      rule: \"Host(`" + naiveHost + "`)\"\n" +
	"      priority: 10000\n" +
	"      entryPoints: [web]\n" +
	"      service: bench-naive\n" +
	"  services:\n" +
	"    bench-naive:\n" +
	"      loadBalancer:\n" +
	"        servers:\n" +
	"          - url: \"http://" + naiveContainer + ":3000\"\n"

// benchNaive is the baseline: on every web host, `docker stop` the app
// then `docker run` the next version, behind the same Traefik the product
// uses (its file provider gets one more router), under the same load.
func (e *env) benchNaive(ctx context.Context, s *Scenario, f *harness.Fleet, web []*harness.Host) error {
	for _, h := range web {
		if err := e.naiveSetup(ctx, s, h); err != nil {
			return err
		}
	}
	l, err := startLoad(ctx, f, web, loadSpec{Rate: e.opts.Rate, Host: naiveHost, Max: scenarioTimeout})
	if err != nil {
		return err
	}
	ops, err := opLoop(ctx, l, e.opts.Repeats, e.opts.MinRequests, scenarioTimeout-time.Minute, func(i int) error {
		version := fmt.Sprintf("naive%d", i+1)
		return each(web, func(h *harness.Host) error {
			if _, err := h.Docker(ctx, "stop", "-t", "10", naiveContainer); err != nil {
				return err
			}
			if _, err := h.Docker(ctx, "rm", naiveContainer); err != nil {
				return err
			}
			if err := naiveRun(ctx, h, version); err != nil {
				return err
			}
			return waitServes(ctx, f, h, naiveHost, version, 60*time.Second)
		})
	})
	c := l.finish("naive stop-then-start", ops)
	s.Load = append(s.Load, c)
	if err != nil {
		return err
	}
	s.Add("failed requests", "requests", []float64{float64(c.Failed())}, nil)
	s.Note("%d stop-then-start swaps on %d hosts under %.0f req/s per host", ops, len(web), e.opts.Rate)
	return nil
}

func (e *env) naiveSetup(ctx context.Context, s *Scenario, h *harness.Host) error {
	if _, err := h.Docker(ctx, "network", "inspect", naiveNetwork); err != nil {
		if _, err := h.Docker(ctx, "network", "create", naiveNetwork); err != nil {
			return err
		}
	}
	if ok, err := h.HasImage(ctx, e.images.app); err != nil {
		return err
	} else if !ok {
		if err := h.LoadImage(ctx, e.images.app); err != nil {
			return err
		}
	}
	dir, err := h.Docker(ctx, "inspect", "--format",
		`{{range .Mounts}}{{if eq .Destination "`+traefikDynamicMount+`"}}{{.Source}}{{end}}{{end}}`, kamalTraefik)
	if err != nil || strings.TrimSpace(dir) == "" {
		// No product Traefik on this host (setup did not run): boot one
		// with the flags the sidecar uses.
		dir = "/srv/bench-traefik"
		if _, err := h.Exec(ctx, "mkdir", "-p", dir); err != nil {
			return err
		}
		if ok, err := h.HasImage(ctx, e.images.traefik); err != nil {
			return err
		} else if !ok {
			if err := h.LoadImage(ctx, e.images.traefik); err != nil {
				return err
			}
		}
		if _, err := h.Docker(ctx, "run", "-d", "--name", benchTraefik, "--network", naiveNetwork, "-p", "80:80",
			"-v", dir+":"+traefikDynamicMount+":ro", e.images.traefik,
			"--entrypoints.web.address=:80", "--providers.file.directory="+traefikDynamicMount,
			"--providers.file.watch=true", "--providers.providersThrottleDuration=50ms"); err != nil {
			return err
		}
		if s.Notes == nil || !strings.Contains(strings.Join(s.Notes, " "), benchTraefik) {
			s.Note("the product's Traefik was not running, so %s ran with the sidecar's flags (file provider, 50 ms throttle)", benchTraefik)
		}
	} else {
		dir = strings.TrimSpace(dir)
		if s.Notes == nil || !strings.Contains(strings.Join(s.Notes, " "), kamalTraefik) {
			s.Note("behind the product's Traefik (%s), one more file-provider router on Host %s", kamalTraefik, naiveHost)
		}
	}
	if err := naiveRun(ctx, h, "naive0"); err != nil {
		return err
	}
	if _, err := h.ExecInput(ctx, strings.NewReader(naiveDynamic), "sh", "-c", "cat > "+dir+"/bench-naive.yml.tmp && mv "+dir+"/bench-naive.yml.tmp "+dir+"/bench-naive.yml"); err != nil {
		return err
	}
	return waitServes(ctx, e.fleetOf(h), h, naiveHost, "naive0", 60*time.Second)
}

func naiveRun(ctx context.Context, h *harness.Host, version string) error {
	_, err := h.Docker(ctx, "run", "-d", "--name", naiveContainer, "--network", naiveNetwork,
		"-e", "APP_VERSION="+version, "-e", "SHUTDOWN_TIMEOUT_MS=10000", "--label", "bench=naive", "kamal-e2e-app:v1")
	return err
}

// waitServes polls h's port 80 (with Host header host) until it answers
// 2xx from version, bounded by max.
func waitServes(ctx context.Context, f *harness.Fleet, h *harness.Host, host, version string, max time.Duration) error {
	deadline := time.Now().Add(max)
	last := ""
	for time.Now().Before(deadline) {
		rep, err := loadgen.Run(ctx, loadgen.Config{URL: "http://" + h.Addr.String() + "/", Host: host, Count: 1, Rate: 10,
			Timeout: 5 * time.Second, Allow: []netip.Prefix{f.Subnet}})
		if err != nil {
			return err
		}
		if len(rep.Results) == 1 {
			r := rep.Results[0]
			if r.OK() && r.Version == version {
				return nil
			}
			last = fmt.Sprintf("status %d version %q %s", r.Status, r.Version, r.Err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s never served %s within %v (last: %s)", h.Name, version, max, last)
}

// each runs fn on every host in parallel and joins the errors.
func each(hosts []*harness.Host, fn func(h *harness.Host) error) error {
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(h)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("%s: %w", hosts[i].Name, err)
		}
	}
	return nil
}

package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// rssSamples is how many idle RSS readings are taken, rssEvery apart.
const (
	rssSamples = 10
	rssEvery   = 300 * time.Millisecond
	// idleAfter is how long the sidecar is left alone before sampling.
	idleAfter = 3 * time.Second
)

// benchFootprint reads the sidecar image's size and the sidecar's resident
// memory on h once it is idle. The sidecar there is the one `docker kamal
// setup` started (after every deploy of the run, when they ran).
func (e *env) benchFootprint(ctx context.Context, s *Scenario, h *harness.Host) error {
	out, err := h.Docker(ctx, "inspect", "--format", "{{.Config.Image}}", contract.SidecarContainerName)
	if err != nil {
		return fmt.Errorf("find the sidecar on %s (setup did not start it?): %w", h.Name, err)
	}
	img := strings.TrimSpace(out)
	size, err := h.Docker(ctx, "image", "inspect", "--format", "{{.Size}}", img)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(size), 10, 64)
	if err != nil {
		return fmt.Errorf("image size of %s: %w", img, err)
	}
	s.Add("sidecar image size", "MB", []float64{mb(n)}, nil)

	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(idleAfter):
	}
	var rss []float64
	for i := 0; i < rssSamples; i++ {
		kb, err := sidecarRSS(ctx, h)
		if err != nil {
			return err
		}
		rss = append(rss, float64(kb)/1024)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rssEvery):
		}
	}
	s.Add("sidecar idle RSS", "MiB", rss, AtMost(30))
	s.Note("image %s; RSS is VmRSS of the kamal-sidecar process on %s, %d readings %v apart after %v idle", img, h.Name, rssSamples, rssEvery, idleAfter)
	return nil
}

// sidecarRSS is the kamal-sidecar process's VmRSS in KiB.
func sidecarRSS(ctx context.Context, h *harness.Host) (int64, error) {
	out, err := h.Exec(ctx, "sh", "-c", `for p in $(pidof kamal-sidecar); do grep VmRSS /proc/$p/status; done`)
	if err != nil {
		return 0, err
	}
	var total int64
	found := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmRSS:" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %q: %w", line, err)
			}
			total += n
			found = true
		}
	}
	if !found {
		return 0, fmt.Errorf("no kamal-sidecar process on %s", h.Name)
	}
	return total, nil
}

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// TestHostsSSH starts 3 hosts and reaches each over SSH with the generated
// identity, known_hosts and ssh_config.
func TestHostsSSH(t *testing.T) {
	start := time.Now()
	f := harness.StartHosts(t, 3)
	t.Logf("3 hosts ready in %v", time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, h := range f.Hosts {
		out, err := h.RunSSH(ctx, "hostname && docker info --format '{{.Driver}}'")
		if err != nil {
			t.Fatalf("ssh %s: %v", h.Name, err)
		}
		if got := strings.Fields(out); len(got) != 2 || got[0] != h.Name || got[1] != "overlay2" {
			t.Errorf("ssh %s: got %q, want hostname %s and driver overlay2", h.Name, out, h.Name)
		}
	}
}

package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// diagnose writes, for a cycle with violations, what each host's sidecar
// and Traefik logged since the cycle began, its app containers with their
// addresses, and its route files: what a violation's cause is read from
// once the hosts are gone. Best effort: a host that does not answer gets
// what it gave.
func (s *soak) diagnose(ctx context.Context, r *CycleRun, inj *injection, since time.Time) {
	if s.opts.LogDir == "" || len(r.Violations) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var b strings.Builder
	fmt.Fprintf(&b, "cycle %d (%s, %s on host %d): %s\n", r.N, r.Ran, r.Fault, r.Host+1, strings.Join(r.Violations, "; "))
	if inj != nil && !inj.at.IsZero() {
		fmt.Fprintf(&b, "fault at %s, healed at %s\n", stamp(inj.at), stamp(inj.healed))
	}
	ts := since.UTC().Format(time.RFC3339Nano)
	for _, h := range s.f.Hosts {
		fmt.Fprintf(&b, "\n===== %s (%s)\n", h.Name, h.Addr)
		section(ctx, &b, h, "app containers", "docker", "ps", "-a", "--filter", "label=kamal.service="+Service, "--format",
			"{{.Names}} {{.State}} {{.Status}}")
		section(ctx, &b, h, "addresses", "sh", "-c",
			"docker ps -aq --filter label=kamal.service="+Service+" | xargs -r docker inspect --format "+
				"'{{.Name}} started {{.State.StartedAt}} {{range $n, $e := .NetworkSettings.Networks}}{{$n}}={{$e.IPAddress}} {{end}}'")
		section(ctx, &b, h, "route files", "sh", "-c", "for f in $(find /var/lib/kamal -path '*traefik*' -name '*.yml'); do echo \"# $f\"; cat \"$f\"; done")
		for _, c := range []string{"kamal-sidecar", "kamal-traefik"} {
			// Both log to stderr, which Exec keeps only on failure.
			section(ctx, &b, h, c+" log", "sh", "-c", "docker logs --timestamps --since "+ts+" "+c+" 2>&1")
		}
	}
	name := filepath.Join(s.opts.LogDir, fmt.Sprintf("cycle-%03d-diagnostics.log", r.N))
	if err := os.MkdirAll(s.opts.LogDir, 0o755); err == nil {
		os.WriteFile(name, []byte(b.String()), 0o644) //nolint:errcheck // diagnostics only
	}
	s.logf("    diagnostics in %s", name)
}

func section(ctx context.Context, b *strings.Builder, h *harness.Host, title string, args ...string) {
	out, err := h.Exec(ctx, args...)
	fmt.Fprintf(b, "--- %s\n%s\n", title, strings.TrimRight(out, "\n"))
	if err != nil {
		fmt.Fprintf(b, "(error: %v)\n", err)
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("15:04:05.000")
}

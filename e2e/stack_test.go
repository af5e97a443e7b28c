package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

const traefikDynamic = `http:
  routers:
    app:
      rule: "PathPrefix(` + "`/`" + `)"
      service: app
      entryPoints: [web]
  services:
    app:
      loadBalancer:
        servers:
          - url: "http://stack-app:3000"
`

// TestStack runs the locally built images together on one host, the way a
// deploy will: PostgreSQL and Redis accessories, the sample app checking
// both from /up, its migrate command recording exactly one run, and Traefik
// (file provider) routing port 80 to the app.
func TestStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := harness.SharedFleet(t, 3)
	h := f.Hosts[2]
	start := time.Now()
	for _, ref := range []string{imgs.Postgres, imgs.Redis, imgs.Traefik, imgs.App} {
		if err := h.LoadImage(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("loaded postgres, redis, traefik and app into %s in %v", h.Name, time.Since(start).Round(time.Millisecond))

	t.Cleanup(func() {
		ctx := context.Background()
		h.Docker(ctx, "rm", "-f", "-v", "stack-db", "stack-redis", "stack-app", "stack-traefik") //nolint:errcheck // best effort on a shared host
		h.Docker(ctx, "network", "rm", "kamal")                                                  //nolint:errcheck // best effort
	})
	mustDocker := func(args ...string) string {
		t.Helper()
		out, err := h.Docker(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	mustDocker("network", "create", "kamal")
	mustDocker("run", "-d", "--name", "stack-db", "--network", "kamal",
		"-e", "POSTGRES_USER=app", "-e", "POSTGRES_PASSWORD=s3cret", "-e", "POSTGRES_DB=app_production",
		"-v", "stack-db-data:/var/lib/postgresql/data", imgs.Postgres)
	mustDocker("run", "-d", "--name", "stack-redis", "--network", "kamal", imgs.Redis)
	dbURL := "postgres://app:s3cret@stack-db:5432/app_production"
	mustDocker("run", "-d", "--name", "stack-app", "--network", "kamal",
		"-e", "DATABASE_URL="+dbURL, "-e", "REDIS_URL=redis://stack-redis:6379/0", imgs.App)
	if _, err := h.ExecInput(ctx, strings.NewReader(traefikDynamic), "sh", "-c",
		"mkdir -p /srv/traefik && cat > /srv/traefik/app.yml"); err != nil {
		t.Fatal(err)
	}
	mustDocker("run", "-d", "--name", "stack-traefik", "--network", "kamal", "-p", "80:80",
		"-v", "/srv/traefik:/etc/traefik/dynamic:ro", imgs.Traefik,
		"--global.checkNewVersion=false", "--global.sendAnonymousUsage=false",
		"--entrypoints.web.address=:80", "--ping=true", "--api.insecure=true",
		"--providers.file.directory=/etc/traefik/dynamic", "--providers.file.watch=true")

	base := fmt.Sprintf("http://%s", h.Addr)
	// /up through Traefik: healthy once PostgreSQL has initialised.
	waitHTTP(t, base+"/up", http.StatusOK, 60*time.Second)
	up := getJSON(t, base+"/up")
	if up.Status != "ok" || up.Checks["database"] != "ok" || up.Checks["redis"] != "ok" || up.Version != "v1" {
		t.Errorf("/up = %+v; want ok with database and redis checks ok, version v1", up)
	}

	rep, err := loadgen.Run(ctx, loadgen.Config{URL: base + "/", Rate: 100, Count: 200, Duration: 10 * time.Second, Allow: []netip.Prefix{f.Subnet}})
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Summary; s.Total != 200 || s.OK != 200 {
		t.Errorf("load through traefik:\n%s\nwant 200 ok", s)
	}

	runApp := func(cmd ...string) string {
		t.Helper()
		return mustDocker(append([]string{"run", "--rm", "--network", "kamal", "-e", "DATABASE_URL=" + dbURL, imgs.App, "sampleapp"}, cmd...)...)
	}
	runApp("migrate")
	rows := strings.Split(strings.TrimSpace(runApp("migrations")), "\n")
	if len(rows) != 1 || !strings.Contains(rows[0], `"version":"v1"`) {
		t.Errorf("migrations after one migrate: %q; want exactly one row for v1", rows)
	}

	// A broken dependency makes /up answer 503 with the failing check.
	mustDocker("stop", "stack-redis")
	waitHTTP(t, base+"/up", http.StatusServiceUnavailable, 30*time.Second)
	if up := getJSON(t, base+"/up"); up.Status != "error" || up.Checks["redis"] == "ok" || up.Checks["database"] != "ok" {
		t.Errorf("/up with redis stopped = %+v; want error with only redis failing", up)
	}
}

type upBody struct {
	Status  string            `json:"status"`
	Version string            `json:"version"`
	Checks  map[string]string `json:"checks"`
}

func getJSON(t *testing.T, url string) upBody {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("X-App-Version"); got == "" {
		t.Errorf("%s: no X-App-Version header", url)
	}
	var b upBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatalf("%s: decode: %v", url, err)
	}
	return b
}

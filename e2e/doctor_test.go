package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

const doctorYML = `service: doc
image: doc
servers:
  web:
    hosts:
      - %[1]s
    options:
      memory: 256m
proxy:
  host: doc.example.com
  app_port: 3000
  healthcheck:
    path: /up
retain_containers: 3
ssh:
  config: %[2]s
`

// TestDoctorLive runs `docker kamal doctor --live` through the docker CLI
// against a real host: SSH, Docker version, disk and clock pass; the health
// check through the proxy fails because no proxy or app runs there yet.
func TestDoctorLive(t *testing.T) {
	p := installPlugin(t)
	f := harness.StartHosts(t, 1)
	h := f.Hosts[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	yml := fmt.Sprintf(doctorYML, h.Name, f.SSHConfig)
	if err := os.WriteFile(filepath.Join(dir, "config", "deploy.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	r := p.kamal(ctx, dir, nil, nil, "doctor", "--live")
	t.Logf("docker kamal doctor --live (%v):\n%s", r.took, r.out)
	if r.err == nil {
		t.Fatalf("doctor --live passed although no proxy answers on %s", h.Name)
	}
	want := "error live-health ssh://" + h.Name + " GET /up through the proxy answered 000"
	if !strings.Contains(r.out, want) {
		t.Errorf("missing %q", want)
	}
	for _, id := range []string{"live-ssh", "live-docker", "live-clock"} {
		if strings.Contains(r.out, " "+id+" ") {
			t.Errorf("%s fired on a healthy host", id)
		}
	}

	// With an app answering /up on port 80 of the host (standing in for
	// the proxy), the check passes.
	ref, err := harness.BuildSampleApp(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.LoadImage(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if out, err := h.Docker(ctx, "run", "-d", "--name", "doctor-up", "--label", "kamal-e2e=1", "-p", "80:3000", ref); err != nil {
		t.Fatalf("run app: %v: %s", err, out)
	}
	var code string
	waitUntil(t, 30*time.Second, func() bool {
		out, _ := h.Exec(ctx, "sh", "-c", "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1/up || true")
		code = strings.TrimSpace(out)
		return code == "200"
	}, func() string { return fmt.Sprintf("app never answered /up on %s:80 (%q)", h.Name, code) })
	r = p.kamal(ctx, dir, nil, nil, "doctor", "--live")
	t.Logf("with an app on :80 (%v):\n%s", r.took, r.out)
	if strings.Contains(r.out, " live-health ") {
		t.Errorf("live-health fired although /up answers 200 on %s", h.Name)
	}
}

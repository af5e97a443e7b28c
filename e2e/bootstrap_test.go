package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// TestServerBootstrapInstallsDocker turns a harness host into one without
// Docker (the docker.io package removed, dockerd stopped), then has
// `docker kamal server bootstrap` install it from Debian's own repository
// over SSH, and checks Docker answers and the kamal network exists. A
// second run finds Docker present and changes nothing.
func TestServerBootstrapInstallsDocker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	f := harness.StartHosts(t, 1)
	h := f.Hosts[0]
	if out, err := h.Exec(ctx, "sh", "-c",
		"DEBIAN_FRONTEND=noninteractive apt-get remove -y -q docker.io >/dev/null 2>&1; pkill -x dockerd; ! command -v docker"); err != nil {
		t.Fatalf("remove docker from the host: %v\n%s", err, out)
	}
	plugin := installPlugin(t)
	app := t.TempDir()
	writeFile(t, filepath.Join(app, "config", "deploy.yml"), fmt.Sprintf(`service: boot
image: boot/app
servers:
  - %s
ssh:
  config: %s
`, h.Addr, f.SSHConfig), 0o644)
	r := plugin.kamal(ctx, app, nil, nil, "server", "bootstrap").must(t)
	t.Logf("server bootstrap took %v", r.took.Round(time.Second))
	if !strings.Contains(r.out, "docker installed") {
		t.Errorf("bootstrap output does not report the install:\n%s", r.out)
	}
	if out, err := h.Exec(ctx, "docker", "network", "inspect", "--format", "{{.Name}}", "kamal"); err != nil || strings.TrimSpace(out) != "kamal" {
		t.Fatalf("after bootstrap docker or the kamal network is missing: %v %q", err, out)
	}
	r = plugin.kamal(ctx, app, nil, nil, "server", "bootstrap").must(t)
	if !strings.Contains(r.out, "docker present") {
		t.Errorf("second bootstrap did not find docker present:\n%s", r.out)
	}
}

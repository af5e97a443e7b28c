package sidecar

import (
	"slices"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

func TestTraefikContainerSpec(t *testing.T) {
	dir := t.TempDir()
	cs, err := traefikContainerSpec(dir, "kamal", contract.TraefikRequest{
		Image: "traefik:v3.6.12", HTTPSPort: -1,
		ACME:    &contract.ACME{Resolver: "letsencrypt", Email: "ops@example.com"},
		Args:    map[string]string{"log.level": "DEBUG"},
		Options: map[string][]string{"publish": {"8443:8443"}},
		Labels:  map[string]string{"team": "web"}, Env: map[string]string{"A": "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(cs.Cmd, " ")
	for _, want := range []string{"--providers.file.directory=/etc/traefik/dynamic", "--providers.providersThrottleDuration=50ms",
		"--log.level=DEBUG", "letsencrypt.acme.email=ops@example.com"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %s: %s", want, args)
		}
	}
	if cs.Name != TraefikContainer || cs.Network != "kamal" || cs.Labels["team"] != "web" || !slices.Equal(cs.Env, []string{"A=b"}) {
		t.Errorf("spec = %+v", cs)
	}
	if !slices.Equal(cs.Ports, []string{"80:80", "8443:8443"}) {
		t.Errorf("ports = %v", cs.Ports)
	}
	if !slices.Contains(cs.Volumes, TraefikDynamicDir(dir)+":/etc/traefik/dynamic:ro") || !slices.Contains(cs.Volumes, traefikACMEDir(dir)+":/etc/traefik/acme") {
		t.Errorf("volumes = %v", cs.Volumes)
	}
}

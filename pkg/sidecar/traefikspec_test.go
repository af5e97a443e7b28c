package sidecar

import (
	"slices"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/sidecarapi"
)

func TestTraefikContainerSpec(t *testing.T) {
	req := sidecarapi.TraefikRequest{
		Image: "traefik:v3.6.12", HTTPSPort: -1,
		ACME:    &sidecarapi.ACME{Resolver: "letsencrypt", Email: "ops@example.com"},
		Args:    map[string]string{"log.level": "DEBUG", "accesslog": "true"},
		Options: map[string][]string{"publish": {"8443:8443"}, "memory": {"256m"}},
		Labels:  map[string]string{"team": "web"},
		Env:     map[string]string{"CF_API_TOKEN": "x"},
	}
	cs, err := traefikContainerSpec("/var/lib/kamal", "kamal", req)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"--entrypoints.web.address=:80", "--entrypoints.traefik.address=:8080",
		"--providers.file.directory=/etc/traefik/dynamic", "--providers.file.watch=true",
		"--providers.providersThrottleDuration=50ms", "--api.insecure=true", "--ping=true",
		"--certificatesresolvers.letsencrypt.acme.email=ops@example.com",
		"--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web",
		"--log.level=DEBUG", "--accesslog=true",
	} {
		if !slices.Contains(cs.Cmd, want) {
			t.Errorf("args lack %s:\n%s", want, strings.Join(cs.Cmd, "\n"))
		}
	}
	if slices.Contains(cs.Cmd, "--log.level=INFO") || slices.ContainsFunc(cs.Cmd, func(s string) bool { return strings.Contains(s, "websecure") }) {
		t.Errorf("user args must override defaults; https left out: %v", cs.Cmd)
	}
	if !slices.Equal(cs.Ports, []string{"80:80", "8443:8443"}) {
		t.Errorf("ports = %v", cs.Ports)
	}
	if !slices.Contains(cs.Volumes, "/var/lib/kamal/traefik/dynamic:/etc/traefik/dynamic:ro") ||
		!slices.Contains(cs.Volumes, "/var/lib/kamal/traefik/acme:/etc/traefik/acme") {
		t.Errorf("volumes = %v", cs.Volumes)
	}
	if cs.Memory != "256m" || cs.Labels["team"] != "web" || !slices.Equal(cs.Env, []string{"CF_API_TOKEN=x"}) || cs.Network != "kamal" {
		t.Errorf("spec = %+v", cs)
	}
	if _, err := traefikContainerSpec("/s", "kamal", sidecarapi.TraefikRequest{Image: "t", Options: map[string][]string{"privileged": {"true"}}}); err == nil {
		t.Errorf("unsupported option accepted")
	}
}

package sidecar

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
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

// A private ACME server's CA bundle is written into the ACME dir under a
// name that changes with its content, and Traefik is pointed at it.
func TestTraefikContainerSpecACMECA(t *testing.T) {
	dir := t.TempDir()
	spec := func(bundle string) (string, string) {
		t.Helper()
		a := &contract.ACME{Resolver: "letsencrypt", Email: "ops@example.com", CAServer: "https://pebble:14000/dir", CACertificates: bundle}
		cs, err := traefikContainerSpec(dir, "kamal", contract.TraefikRequest{Image: "traefik:v3.6.12", ACME: a})
		if err != nil {
			t.Fatal(err)
		}
		name := traefik.ACMECAFile(*a)
		want := "--certificatesResolvers.letsencrypt.acme.caCertificates=/etc/traefik/acme/" + name
		if !slices.Contains(cs.Cmd, want) || !slices.Contains(cs.Cmd, "--certificatesResolvers.letsencrypt.acme.caServer=https://pebble:14000/dir") {
			t.Errorf("args lack %s: %v", want, cs.Cmd)
		}
		got, err := os.ReadFile(filepath.Join(traefikACMEDir(dir), name))
		if err != nil || string(got) != bundle {
			t.Errorf("bundle on the host = %q, %v; want %q", got, err, bundle)
		}
		return name, strings.Join(cs.Cmd, " ")
	}
	n1, c1 := spec("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")
	n2, c2 := spec("-----BEGIN CERTIFICATE-----\nAB==\n-----END CERTIFICATE-----\n")
	if n1 == n2 || c1 == c2 {
		t.Errorf("a new bundle must change the file name and the command line: %s %s", n1, n2)
	}
}

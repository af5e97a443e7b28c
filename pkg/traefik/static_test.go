package traefik_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/internal/golden"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

func TestStaticArgsGolden(t *testing.T) {
	s := traefik.Static{
		Image: "traefik:v3.6.12", DynamicDir: "/var/lib/kamal/traefik/dynamic", ACMEDir: "/var/lib/kamal/traefik/acme",
		ACME: []contract.ACME{{Resolver: "letsencrypt", Email: "ops@example.com"},
			{Resolver: "staging", Email: "ops@example.com", Challenge: "tls", CAServer: "https://acme-staging-v02.api.letsencrypt.org/directory"}},
		// Kamal 1 traefik.args: accesslog on, and a different log level; a
		// user entrypoint address replaces ours whatever its case.
		Args: map[string]string{"accesslog": "", "log.level": "DEBUG", "entrypoints.web.address": ":8000"},
	}
	args, err := s.CommandArgs()
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "static-args.txt"), []byte(strings.Join(args, "\n")+"\n"))
	for _, want := range []string{"--providers.providersThrottleDuration=50ms", "--global.checkNewVersion=false",
		"--global.sendAnonymousUsage=false", "--entrypoints.web.address=:8000", "--accesslog"} {
		if !slices.Contains(args, want) {
			t.Errorf("args lack %s", want)
		}
	}
	if slices.Contains(args, "--entryPoints.web.address=:80") {
		t.Error("user arg did not replace the default entrypoint")
	}
}

func TestStaticContainerSpec(t *testing.T) {
	s := traefik.Static{
		Image: "traefik:v3.6.12", DynamicDir: "/var/lib/kamal/traefik/dynamic",
		Options: map[string][]string{"publish": {"8080:8080"}, "volume": {"/etc/certs:/certs:ro"}, "memory": {"256m"}, "log-opt": {"max-size=10m"}},
		Labels:  map[string]string{"traefik.http.routers.dashboard.rule": "Host(`t.example.com`)"},
		Env:     map[string]string{"TZ": "UTC"},
	}
	cs, err := s.ContainerSpec()
	if err != nil {
		t.Fatal(err)
	}
	if cs.Name != "kamal-traefik" || cs.Network != "kamal" || cs.Restart != "unless-stopped" || cs.Memory != "256m" {
		t.Errorf("spec %+v", cs)
	}
	if got := strings.Join(cs.Ports, " "); got != "80:80 443:443 8080:8080" {
		t.Errorf("ports %s; the API port must not be published by default", got)
	}
	if got := strings.Join(cs.Volumes, " "); got != "/var/lib/kamal/traefik/dynamic:/etc/traefik/dynamic:ro /etc/certs:/certs:ro" {
		t.Errorf("volumes %s", got)
	}
	if cs.Labels[traefik.LabelTraefik] != "true" || cs.LogOpts["max-size"] != "10m" || cs.Env[0] != "TZ=UTC" {
		t.Errorf("labels %v logopts %v env %v", cs.Labels, cs.LogOpts, cs.Env)
	}
	if s.APIURL() != "http://kamal-traefik:8080" {
		t.Errorf("api url %s", s.APIURL())
	}
	noPorts := traefik.Static{Image: "t", DynamicDir: "/d", HTTPPort: -1, HTTPSPort: -1}
	if cs, _ := noPorts.ContainerSpec(); len(cs.Ports) != 0 {
		t.Errorf("ports %v", cs.Ports)
	}
}

func TestStaticErrors(t *testing.T) {
	tests := []struct {
		name string
		s    traefik.Static
		want string
	}{
		{"no image", traefik.Static{DynamicDir: "/d"}, "required"},
		{"acme without dir", traefik.Static{Image: "t", DynamicDir: "/d", ACME: []contract.ACME{{Resolver: "le", Email: "a@b"}}}, "acmeDir"},
		{"bad challenge", traefik.Static{Image: "t", DynamicDir: "/d", ACMEDir: "/a", ACME: []contract.ACME{{Resolver: "le", Challenge: "dns"}}}, "http or tls"},
		{"bad resolver", traefik.Static{Image: "t", DynamicDir: "/d", ACMEDir: "/a", ACME: []contract.ACME{{Resolver: "a.b"}}}, "invalid"},
		{"bad option", traefik.Static{Image: "t", DynamicDir: "/d", Options: map[string][]string{"privileged": {"true"}}}, "not supported"},
		{"bad arg", traefik.Static{Image: "t", DynamicDir: "/d", Args: map[string]string{"a b": "x"}}, "invalid key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.s.ContainerSpec()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

package traefik_test

import (
	"slices"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

// TestStaticHostProxy: proxy.run's ports and bind_ips become the Traefik
// container's publishing (metrics_port is not published: Kamal only
// exposes it on the container's network), forward_headers and logging its
// flags.
func TestStaticHostProxy(t *testing.T) {
	s := traefik.Static{Image: "traefik", DynamicDir: "/d", HTTPPort: 8080, HTTPSPort: 8443,
		Options: map[string][]string{"log-opt": {"max-size=30m"}},
		Host: &contract.HostProxy{TrustForwardedHeaders: true, AccessLog: true, LogHeaders: map[string]string{"User-Agent": "keep"},
			BindIPs: []string{"10.0.0.1", "fd00::1"}, MetricsPort: 9090}}
	cs, err := s.ContainerSpec()
	if err != nil {
		t.Fatal(err)
	}
	wantPorts := []string{"10.0.0.1:8080:80", "[fd00::1]:8080:80", "10.0.0.1:8443:443", "[fd00::1]:8443:443"}
	if !slices.Equal(cs.Ports, wantPorts) {
		t.Errorf("ports %v, want %v", cs.Ports, wantPorts)
	}
	if cs.LogOpts["max-size"] != "30m" {
		t.Errorf("log opts %v", cs.LogOpts)
	}
	for _, want := range []string{"--entryPoints.web.forwardedHeaders.insecure=true", "--entryPoints.websecure.forwardedHeaders.insecure=true",
		"--accessLog=true", "--accessLog.fields.headers.defaultMode=drop", "--accessLog.fields.headers.names.User-Agent=keep",
		"--entryPoints.metrics.address=:9090", "--metrics.prometheus=true"} {
		if !slices.Contains(cs.Cmd, want) {
			t.Errorf("command lacks %s: %v", want, cs.Cmd)
		}
	}
	s.HTTPPort, s.HTTPSPort = -1, -1
	s.Host = &contract.HostProxy{}
	if cs, err := s.ContainerSpec(); err != nil || len(cs.Ports) != 0 || slices.Contains(cs.Cmd, "--accessLog=true") {
		t.Errorf("publish false: ports %v, %v", cs.Ports, err)
	}
}

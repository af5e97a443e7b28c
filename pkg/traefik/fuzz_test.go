package traefik

import (
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// FuzzBuildLabels feeds arbitrary traefik.* labels (user config) through
// Traefik's decoder and our renaming: errors are fine, panics are not, and
// every router that comes out points at the role's service.
func FuzzBuildLabels(f *testing.F) {
	f.Add("traefik.http.routers.app.rule", "Host(`a`)", "traefik.http.routers.app.middlewares", "m@docker")
	f.Add("traefik.http.middlewares.m.chain.middlewares", "a,b", "traefik.http.services.s.loadbalancer.server.port", "80")
	f.Add("traefik.http.routers.app.tls.certresolver", "le", "traefik.tcp.routers.x.rule", "HostSNI(`*`)")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		labels := map[string]string{}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}} {
			if strings.HasPrefix(kv[0], "traefik.") {
				labels[kv[0]] = kv[1]
			}
		}
		d := deploy("", &spec.Proxy{TraefikLabels: labels})
		conf, err := Build(d, green)
		if err != nil {
			return
		}
		for n, r := range conf.HTTP.Routers {
			if r.Service != Name(d) {
				t.Fatalf("router %s points at %q", n, r.Service)
			}
		}
		if _, err := Marshal(d, conf); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}

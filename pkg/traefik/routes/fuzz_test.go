package routes

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/traefik/paerser/file"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
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
			// Labels come from YAML, which is valid UTF-8 by definition.
			if strings.HasPrefix(kv[0], "traefik.") && utf8.ValidString(kv[0]) && utf8.ValidString(kv[1]) {
				labels[kv[0]] = kv[1]
			}
		}
		d := deploy("", &contract.Proxy{TraefikLabels: labels})
		conf, err := buildWithServers(d, green)
		if err != nil {
			return
		}
		for n, r := range conf.HTTP.Routers {
			if r.Service != contract.RouteName(d) {
				t.Fatalf("router %s points at %q", n, r.Service)
			}
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("attached routing fails wire validation: %v", err)
		}
		// The sidecar's rendering reads back, through Traefik's own file
		// decoder, as exactly the typed configuration (values with
		// surrounding whitespace aside: Traefik's decoder trims them).
		if strings.TrimSpace(v1) != v1 || strings.TrimSpace(v2) != v2 {
			return
		}
		rendered, err := traefik.Render(d, green)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		back := &dynamic.Configuration{}
		if err := file.DecodeContent(string(rendered), ".yml", back); err != nil {
			t.Fatalf("traefik cannot read the rendered file: %v\n%s", err, rendered)
		}
		wantJSON, _ := json.Marshal(conf)
		gotJSON, _ := json.Marshal(back)
		if string(wantJSON) != string(gotJSON) {
			t.Fatalf("traefik read back a different config\n got %s\nwant %s", gotJSON, wantJSON)
		}
	})
}

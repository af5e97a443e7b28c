package routes

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/internal/golden"

	"github.com/traefik/paerser/file"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

func deploy(dest string, px *contract.Proxy) *contract.Deploy {
	d := &contract.Deploy{APIVersion: contract.APIVersion, Service: "app", Role: "web", Destination: dest, Version: "abc123",
		Image: "app:abc123", Healthcheck: contract.Healthcheck{Kind: contract.HealthHTTP}, Proxy: px}
	d.ApplyDefaults()
	return d
}

var green = []swap.Server{{Container: "app-web-abc123", Address: "172.18.0.5:3000"}}

// kamal1Labels are the labels a Kamal 1 deploy.yml typically carries: the
// user's routers with TLS, plus the retry middleware Kamal 1 adds with an
// @docker reference.
var kamal1Labels = map[string]string{
	"traefik.enable":                                               "true",
	"traefik.http.routers.app-web.rule":                            "Host(`app.example.com`)",
	"traefik.http.routers.app-web.entrypoints":                     "websecure",
	"traefik.http.routers.app-web.tls.certresolver":                "letsencrypt",
	"traefik.http.routers.app-web.middlewares":                     "app-web-retry@docker,auth",
	"traefik.http.middlewares.app-web-retry.retry.attempts":        "5",
	"traefik.http.middlewares.app-web-retry.retry.initialinterval": "500ms",
	"traefik.http.middlewares.auth.basicauth.users":                "admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/",
	"traefik.http.services.app-web.loadbalancer.server.scheme":     "http",
	"traefik.http.services.app-web.loadbalancer.server.port":       "8080",
	"traefik.http.routers.app-web-insecure.rule":                   "Host(`app.example.com`)",
	"traefik.http.routers.app-web-insecure.entrypoints":            "web",
	"traefik.http.routers.app-web-insecure.middlewares":            "to-https",
	"traefik.http.middlewares.to-https.redirectscheme.scheme":      "https",
	"traefik.http.middlewares.to-https.redirectscheme.permanent":   "true",
}

func TestBuildGolden(t *testing.T) {
	tests := []struct {
		name    string
		d       *contract.Deploy
		servers []swap.Server
	}{
		{"kamal2-host", deploy("", &contract.Proxy{Hosts: []string{"app.example.com"}, AppPort: 3000}), green},
		{"kamal2-tls-redirect", deploy("staging", &contract.Proxy{
			Hosts: []string{"app.example.com", "www.example.com"}, PathPrefix: "/api", AppPort: 3000,
			TLS: true, CertResolver: "letsencrypt", SSLRedirect: true, ResponseTimeout: contract.Duration(45 * time.Second),
		}), green},
		{"kamal2-tls-no-redirect", deploy("", &contract.Proxy{Hosts: []string{"app.example.com"}, TLS: true, CertResolver: "le"}), green},
		{"kamal2-rule-entrypoints", deploy("", &contract.Proxy{Rule: "Host(`a.test`) && Headers(`X-Canary`, `1`)", EntryPoints: []string{"internal"}}), green},
		{"kamal2-catch-all-two-servers", deploy("", &contract.Proxy{}), []swap.Server{
			{Container: "a", Address: "172.18.0.5:80"}, {Container: "b", Address: "172.18.0.6:80"}}},
		{"kamal1-labels", deploy("production", &contract.Proxy{TraefikLabels: kamal1Labels, AppPort: 3000}), green},
		{"kamal1-labels-middleware-only", deploy("", &contract.Proxy{Hosts: []string{"app.example.com"}, TraefikLabels: map[string]string{
			"traefik.http.services.app-web.loadbalancer.sticky.cookie.name": "srv",
		}}), green},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf, err := buildWithServers(tt.d, tt.servers)
			if err != nil {
				t.Fatal(err)
			}
			// What the sidecar writes: the attached routing plus servers.
			got, err := traefik.Render(tt.d, tt.servers)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.name+".yml"), got)

			// Traefik's own file decoder reads back exactly what we built.
			back := &dynamic.Configuration{}
			if err := file.DecodeContent(string(got), ".yml", back); err != nil {
				t.Fatalf("traefik cannot read the file: %v", err)
			}
			wantJSON, _ := json.Marshal(conf)
			gotJSON, _ := json.Marshal(back)
			if string(wantJSON) != string(gotJSON) {
				t.Errorf("traefik read back a different config\n got %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestKamal1LabelDecoding(t *testing.T) {
	d := deploy("production", &contract.Proxy{TraefikLabels: kamal1Labels, AppPort: 3000})
	conf, err := buildWithServers(d, green)
	if err != nil {
		t.Fatal(err)
	}
	h := conf.HTTP
	r := h.Routers["app-web-production-app-web"]
	if r == nil {
		t.Fatalf("routers %v", keys(h.Routers))
	}
	if r.Rule != "Host(`app.example.com`)" || r.TLS == nil || r.TLS.CertResolver != "letsencrypt" ||
		strings.Join(r.EntryPoints, ",") != "websecure" || r.Service != "app-web-production" {
		t.Errorf("router %+v", r)
	}
	if got := strings.Join(r.Middlewares, ","); got != "app-web-production-app-web-retry,app-web-production-auth" {
		t.Errorf("middlewares %s", got)
	}
	retry := h.Middlewares["app-web-production-app-web-retry"]
	if retry == nil || retry.Retry == nil || retry.Retry.Attempts != 5 || time.Duration(retry.Retry.InitialInterval) != 500*time.Millisecond {
		t.Errorf("retry %+v", retry)
	}
	ins := h.Routers["app-web-production-app-web-insecure"]
	if ins == nil || ins.Middlewares[0] != "app-web-production-to-https" || h.Middlewares["app-web-production-to-https"].RedirectScheme.Scheme != "https" {
		t.Errorf("insecure router %+v", ins)
	}
	svc := h.Services["app-web-production"]
	if len(h.Services) != 1 || svc.LoadBalancer.Servers[0].URL != "http://172.18.0.5:8080" {
		t.Errorf("services %v, server %+v", keys(h.Services), svc.LoadBalancer.Servers)
	}
}

func TestKamal1LabelErrors(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   error // besides errLabels, which every one wraps
	}{
		{"two services", map[string]string{
			"traefik.http.services.a.loadbalancer.server.port": "80",
			"traefik.http.services.b.loadbalancer.server.port": "81",
		}, errServices},
		{"tcp", map[string]string{"traefik.tcp.routers.db.rule": "HostSNI(`*`)"}, errTCPUDP},
		{"unknown field", map[string]string{"traefik.http.routers.a.nosuchthing": "x"}, errLabels},
		{"key traefik's decoder panics on", map[string]string{"traefik.http]": "0"}, errMalformedKey},
		{"port zero", map[string]string{"traefik.http.services.a.loadbalancer.server.port": "0"}, errPort},
		{"bad scheme", map[string]string{"traefik.http.services.a.loadbalancer.server.scheme": "ftp"}, errScheme},
		{"server url", map[string]string{"traefik.http.services.a.loadbalancer.server.url": "http://evil:80"}, errServerURL},
		{"not a load balancer", map[string]string{"traefik.http.services.a.weighted.sticky.cookie.name": "x"}, errNotLoadBalancer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildWithServers(deploy("", &contract.Proxy{TraefikLabels: tt.labels}), green)
			if !errors.Is(err, errLabels) || !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRule(t *testing.T) {
	tests := []struct {
		px   contract.Proxy
		want string
	}{
		{contract.Proxy{}, "PathPrefix(`/`)"},
		{contract.Proxy{Hosts: []string{"a"}}, "Host(`a`)"},
		{contract.Proxy{Hosts: []string{"a", "b"}}, "Host(`a`) || Host(`b`)"},
		{contract.Proxy{Hosts: []string{"a", "b"}, PathPrefix: "/p"}, "(Host(`a`) || Host(`b`)) && PathPrefix(`/p`)"},
		{contract.Proxy{Hosts: []string{"a"}, PathPrefix: "/p"}, "Host(`a`) && PathPrefix(`/p`)"},
		{contract.Proxy{PathPrefix: "/p"}, "PathPrefix(`/p`)"},
		{contract.Proxy{Rule: "Path(`/x`)", Hosts: []string{"ignored"}}, "Path(`/x`)"},
	}
	for _, tt := range tests {
		if got := Rule(&tt.px); got != tt.want {
			t.Errorf("Rule(%+v) = %s, want %s", tt.px, got, tt.want)
		}
	}
}

func TestBuildWithoutProxy(t *testing.T) {
	d := deploy("", nil)
	if _, err := buildWithServers(d, green); err == nil {
		t.Fatal("want an error for a role without proxy")
	}
}

// buildWithServers attaches d's routing and returns the typed configuration
// Traefik should read from the file the sidecar renders for servers.
func buildWithServers(d *contract.Deploy, servers []swap.Server) (*dynamic.Configuration, error) {
	if err := Attach(d); err != nil {
		return nil, err
	}
	conf, _, _, err := Config(d)
	if err != nil {
		return nil, err
	}
	urls, err := traefik.ServerURLs(d, servers)
	if err != nil {
		return nil, err
	}
	lb := conf.HTTP.Services[contract.RouteName(d)].LoadBalancer
	for _, u := range urls {
		lb.Servers = append(lb.Servers, dynamic.Server{URL: u})
	}
	return conf, nil
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

package spec

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

func loadYAML(t *testing.T, yml string) (*Config, error) {
	t.Helper()
	dir := writeApp(t, map[string]string{"config/deploy.yml": yml})
	return Load(context.Background(), LoadOptions{Dir: dir, Env: lookupIn(nil)})
}

// TestProxyAppKeysOnTheWire: the per-app keys reach the wire spec with
// Kamal's defaults (strip, 30 s response timeout, 1 MB buffer memory).
func TestProxyAppKeysOnTheWire(t *testing.T) {
	tests := []struct {
		name, proxy string
		want        contract.Proxy
	}{
		{"defaults", "  host: a.example.org\n",
			contract.Proxy{ResponseTimeout: DefaultResponseTimeout, ForwardHeaders: true}},
		{"comma path_prefix stripped", "  host: a.example.org\n  path_prefix: /api,/oauth_callback\n  response_timeout: 10\n",
			contract.Proxy{PathPrefixes: []string{"/api", "/oauth_callback"}, StripPathPrefix: true, ResponseTimeout: contract.Duration(10 * time.Second), ForwardHeaders: true}},
		{"path_prefixes kept", "  host: a.example.org\n  path_prefixes: [/api]\n  strip_path_prefix: false\n  forward_headers: false\n",
			contract.Proxy{PathPrefixes: []string{"/api"}, ResponseTimeout: DefaultResponseTimeout}},
		{"buffering", "  host: a.example.org\n  buffering:\n    max_request_body: 40_000_000\n",
			contract.Proxy{Buffering: &contract.Buffering{MaxRequestBody: 40000000, Memory: DefaultBufferMemory}, ResponseTimeout: DefaultResponseTimeout, ForwardHeaders: true}},
		{"buffering off", "  host: a.example.org\n  buffering:\n    requests: false\n    responses: false\n",
			contract.Proxy{ResponseTimeout: DefaultResponseTimeout, ForwardHeaders: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadYAML(t, okHead+"servers: [1.1.1.1]\nproxy:\n"+tc.proxy)
			if err != nil {
				t.Fatal(err)
			}
			d, err := c.Deploy("web", "1.1.1.1", "v1", "app:v1", "")
			if err != nil {
				t.Fatal(err)
			}
			got := contract.Proxy{PathPrefixes: d.Proxy.PathPrefixes, StripPathPrefix: d.Proxy.StripPathPrefix, Buffering: d.Proxy.Buffering,
				ResponseTimeout: d.Proxy.ResponseTimeout, ForwardHeaders: d.Proxy.ForwardHeaders}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestProxyBoot: proxy.run, forward_headers and logging become the host's
// Traefik settings.
func TestProxyBoot(t *testing.T) {
	c, err := loadYAML(t, okHead+"servers: [1.1.1.1]\nproxy:\n  host: a.example.org\n  logging:\n    request_headers: [User-Agent, Authorization]\n    response_headers: [X-Request-ID]\n"+
		"  run:\n    http_port: 8080\n    https_port: 8443\n    bind_ips: [10.0.0.1]\n    log_max_size: 30m\n    metrics_port: 9090\n    debug: true\n    options:\n      memory: [512m]\n      label: [custom.label=kamal-proxy]\n")
	if err != nil {
		t.Fatal(err)
	}
	got := c.ProxyBoot("1.1.1.1")
	want := &ProxyBoot{HTTPPort: 8080, HTTPSPort: 8443,
		Options: map[string][]string{"log-opt": {"max-size=30m"}, "memory": {"512m"}},
		Labels:  map[string]string{"custom.label": "kamal-proxy"},
		Host: &contract.HostProxy{TrustForwardedHeaders: true, AccessLog: true, BindIPs: []string{"10.0.0.1"}, MetricsPort: 9090, Debug: true,
			LogHeaders: map[string]string{"User-Agent": "keep", "Authorization": "redact", "X-Request-Id": "keep"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v %+v\nwant %+v %+v", got, got.Host, want, want.Host)
	}
	req := contract.TraefikRequest{Image: "t", HTTPPort: got.HTTPPort, HTTPSPort: got.HTTPSPort, Options: got.Options, Labels: got.Labels, Host: got.Host}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err = loadYAML(t, okHead+"servers: [1.1.1.1]\nproxy:\n  ssl: true\n  host: a.example.org\n  run:\n    publish: false\n")
	if err != nil {
		t.Fatal(err)
	}
	pb := c.ProxyBoot("1.1.1.1")
	if pb.HTTPPort != -1 || pb.HTTPSPort != -1 || pb.Host.TrustForwardedHeaders || pb.Options["log-opt"][0] != "max-size=10m" ||
		!reflect.DeepEqual(pb.Host.LogHeaders, map[string]string{"Cache-Control": "keep", "Last-Modified": "keep", "User-Agent": "keep"}) {
		t.Errorf("publish false with ssl: %+v %+v", pb, pb.Host)
	}
}

// TestProxyRefusals: what Traefik cannot honour is refused with its line.
func TestProxyRefusals(t *testing.T) {
	const head = okHead + "servers: [1.1.1.1]\nproxy:\n  host: a.example.org\n"
	tests := []struct {
		name, yml string
		want      located
	}{
		{"buffering one way", head + "  buffering:\n    requests: false\n",
			located{"config/deploy.yml", 6, "proxy.buffering", "requests: false with responses: true cannot be honoured: Traefik's buffering buffers both or neither; set both the same"}},
		{"kamal-proxy image", head + "  run:\n    version: v0.8.0\n",
			located{"config/deploy.yml", 7, "proxy.run.version", "names a kamal-proxy image, but docker kamal runs Traefik; remove it (DOCKER_KAMAL_TRAEFIK_IMAGE sets the Traefik image)"}},
		{"proxy option", head + "  run:\n    options:\n      privileged: true\n",
			located{"config/deploy.yml", 7, "proxy.run.options.privileged", "docker option \"privileged\" is not supported for the proxy container (supported: cpus, label, log-driver, log-opt, memory, publish, restart, volume)"}},
		{"accessory proxy ssl", head + "accessories:\n  api:\n    image: api\n    host: 1.1.1.1\n    proxy:\n      host: api.example.org\n      ssl: true\n",
			located{"config/deploy.yml", 12, "accessories.api.proxy.ssl", "not supported for an accessory (host, hosts, app_port and healthcheck are); run it as a role under servers: with proxy: for ssl"}},
		{"accessory proxy path_prefix", head + "accessories:\n  api:\n    image: api\n    host: 1.1.1.1\n    proxy:\n      host: api.example.org\n      path_prefix: /api\n",
			located{"config/deploy.yml", 12, "accessories.api.proxy.path_prefix", "not supported for an accessory (host, hosts, app_port and healthcheck are); run it as a role under servers: with proxy: for path_prefix"}},
		{"accessory proxy without host", head + "accessories:\n  api:\n    image: api\n    host: 1.1.1.1\n    proxy:\n      app_port: 8080\n",
			located{"config/deploy.yml", 10, "accessories.api.proxy", "needs host or hosts: an accessory's route is by host name"}},
		{"accessory proxy off the network", head + "accessories:\n  api:\n    image: api\n    host: 1.1.1.1\n    network: other\n    proxy:\n      host: api.example.org\n",
			located{"config/deploy.yml", 11, "accessories.api.proxy", "the accessory must be on the kamal network (Traefik's) to be routed, not other"}},
		{"forward_headers differ on a host", okHead + "servers:\n  web: [1.1.1.1]\n  api:\n    hosts: [1.1.1.1]\n    proxy:\n      host: api.example.org\n      forward_headers: false\nproxy:\n  host: a.example.org\n",
			located{"config/deploy.yml", 4, "servers.web.proxy.forward_headers", "roles api and web on host 1.1.1.1 differ in forward_headers (false and true): Traefik trusts X-Forwarded-* per host, not per app; set the same forward_headers on both"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadYAML(t, tc.yml)
			if got, ok := locate(err); !ok || got != tc.want {
				t.Fatalf("error %v\n  got  %#v\n  want %#v", err, got, tc.want)
			}
		})
	}
}

// TestProxyHealthcheckOnTheWire: proxy.healthcheck reaches the sidecar's
// probe (pkg/health's tests show the probe honours path, interval and
// per-attempt timeout), sent with the app's host name.
func TestProxyHealthcheckOnTheWire(t *testing.T) {
	c, err := loadYAML(t, okHead+"servers: [1.1.1.1]\nproxy:\n  host: a.example.org\n  app_port: 3000\n  healthcheck:\n    path: /health\n    interval: 3\n    timeout: 2\n")
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy("web", "1.1.1.1", "v1", "app:v1", "")
	if err != nil {
		t.Fatal(err)
	}
	want := contract.Healthcheck{Kind: contract.HealthHTTP, Path: "/health", Port: 3000, HostHeader: "a.example.org",
		Interval: contract.Duration(3 * time.Second), Timeout: contract.Duration(2 * time.Second)}
	if d.Healthcheck != want {
		t.Errorf("healthcheck %+v, want %+v", d.Healthcheck, want)
	}
}

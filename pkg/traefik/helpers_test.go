package traefik_test

import (
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"
)

// deploy is a web role's spec with the routing the plugin attaches.
func deploy(tb testing.TB, dest string, px *spec.Proxy) *spec.Deploy {
	tb.Helper()
	d := &spec.Deploy{APIVersion: spec.APIVersion, Service: "app", Role: "web", Destination: dest, Version: "abc123",
		Image: "app:abc123", Healthcheck: spec.Healthcheck{Kind: spec.HealthHTTP}, Proxy: px}
	d.ApplyDefaults()
	if err := routes.Attach(d); err != nil {
		tb.Fatal(err)
	}
	return d
}

var green = []swap.Server{{Container: "app-web-abc123", Address: "172.18.0.5:3000"}}

package traefik_test

import (
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"
)

// deploy is a web role's spec with the routing the plugin attaches.
func deploy(tb testing.TB, dest string, px *contract.Proxy) *contract.Deploy {
	tb.Helper()
	d := &contract.Deploy{APIVersion: contract.APIVersion, Service: "app", Role: "web", Destination: dest, Version: "abc123",
		Image: "app:abc123", Healthcheck: contract.Healthcheck{Kind: contract.HealthHTTP}, Proxy: px}
	d.ApplyDefaults()
	if err := routes.Attach(d); err != nil {
		tb.Fatal(err)
	}
	return d
}

var green = []swap.Server{{Container: "app-web-abc123", Address: "172.18.0.5:3000"}}

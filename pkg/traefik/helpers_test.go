package traefik_test

import (
	"flag"
	"os"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

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

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

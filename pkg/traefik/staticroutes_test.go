package traefik_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

// TestWriteStaticRoutesReplacesOneService: a service's set replaces its
// own routes only; another app's routes and the roles' files on the host
// stay.
func TestWriteStaticRoutesReplacesOneService(t *testing.T) {
	dir := t.TempDir()
	cfg := []byte(`{"http":{}}`)
	role := filepath.Join(dir, "app-web.yml")
	if err := os.WriteFile(role, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := traefik.WriteStaticRoutes(dir, "other", []contract.StaticRoute{{Name: "db", Config: cfg}}); err != nil {
		t.Fatal(err)
	}
	if err := traefik.WriteStaticRoutes(dir, "app", []contract.StaticRoute{{Name: "db", Config: cfg}, {Name: "search", Config: cfg}}); err != nil {
		t.Fatal(err)
	}
	if err := traefik.WriteStaticRoutes(dir, "app", []contract.StaticRoute{{Name: "search", Config: cfg}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"app-web.yml": true, traefik.StaticRouteFile("other", "db"): true,
		traefik.StaticRouteFile("app", "search"): true, traefik.StaticRouteFile("app", "db"): false,
	} {
		_, err := os.Stat(filepath.Join(dir, name))
		if got := err == nil; got != want || (err != nil && !errors.Is(err, fs.ErrNotExist)) {
			t.Errorf("%s exists %v (%v), want %v", name, got, err, want)
		}
	}
}

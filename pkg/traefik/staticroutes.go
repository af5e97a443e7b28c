package traefik

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/atomicfile"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// StaticRouteFile is the dynamic file of a service's static route (an
// accessory's proxy): accessory.<service>.<name>.yml, beside the roles'
// files (Traefik watches the directory itself, not its subdirectories); a
// role's file name has no dot before .yml, so none can clash.
func StaticRouteFile(service, name string) string {
	return staticRoutePrefix(service) + name + ".yml"
}

func staticRoutePrefix(service string) string { return "accessory." + service + "." }

// WriteStaticRoutes makes dynamicDir serve exactly routes as service's
// static routes: each one's configuration (JSON, which is YAML) in its
// StaticRouteFile, and service's files of routes no longer in the set
// removed (other services' are left alone: apps share hosts).
func WriteStaticRoutes(dynamicDir, service string, routes []contract.StaticRoute) error {
	dir := dynamicDir
	if len(routes) > 0 && !contract.ValidName(service) {
		return fmt.Errorf("write static routes of %q: invalid service name", service)
	}
	keep := map[string]bool{}
	for _, r := range routes {
		if !contract.ValidName(r.Name) {
			return fmt.Errorf("write static route %q: invalid name", r.Name)
		}
		name := StaticRouteFile(service, r.Name)
		if err := atomicfile.WriteFileStaged(filepath.Join(dir, name), StagingDir(dir), r.Config, fileMode); err != nil {
			return fmt.Errorf("write static route %s: %w", r.Name, err)
		}
		keep[name] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("list static routes: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if service == "" || e.IsDir() || keep[n] || !strings.HasPrefix(n, staticRoutePrefix(service)) || !strings.HasSuffix(n, ".yml") {
			continue
		}
		if err := atomicfile.Remove(filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("remove static route %s: %w", n, err)
		}
	}
	return nil
}

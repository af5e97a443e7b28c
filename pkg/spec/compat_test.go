package spec

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// compatEnv supplies the secrets Kamal's fixtures name, as environment.
var compatEnv = map[string]string{"MYSQL_ROOT_PASSWORD": "mysql-root-secret", "PASSWORD": "app-password-secret"}

func lookupIn(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// loadCompat loads a kamal-compat fixture, with destination "world" for
// the *_for_* files as Kamal's tests do.
func loadCompat(t testing.TB, gen, file, dest string) (*Config, error) {
	t.Helper()
	return Load(context.Background(), LoadOptions{
		ConfigFile:     filepath.Join("testdata", "kamal-compat", gen, file),
		Destination:    dest,
		NoSecretsFiles: true,
		Env:            lookupIn(compatEnv),
		Arch:           "amd64",
	})
}

// TestKamalCompatCorpus loads every fixture of Kamal 1.9.3 and 2.12 as the
// corpus README says: all load, except the proxy run conflict and the
// required-destination pair without -d.
func TestKamalCompatCorpus(t *testing.T) {
	failing := map[string]located{
		"v2/deploy_with_proxy_run_config_conflicts.yml": {
			"testdata/kamal-compat/v2/deploy_with_proxy_run_config_conflicts.yml", 15, "proxy",
			"conflicting proxy run configurations for host 1.1.1.2 (servers.web.proxy.run and accessories.mysql.proxy.run)",
		},
		// Refused: docker kamal runs Traefik, not kamal-proxy (docs/config.md);
		// the error pages directory is missing from the fixture.
		"v2/deploy_with_proxy_run_config.yml": {
			"testdata/kamal-compat/v2/deploy_with_proxy_run_config.yml", 17, "proxy.run.registry",
			"names a kamal-proxy image, but docker kamal runs Traefik; remove it (DOCKER_KAMAL_TRAEFIK_IMAGE sets the Traefik image)",
		},
		// Refused: the engine's BuildKit builds one platform, with the docker
		// driver (docs/config.md, Builder).
		"v2/deploy_with_cloud_builder.yml": {
			"testdata/kamal-compat/v2/deploy_with_cloud_builder.yml", 40, "builder.driver", refusedDriver("cloud example_org/cloud_builder"),
		},
		"v2/deploy_with_hybrid_builder.yml": {
			"testdata/kamal-compat/v2/deploy_with_hybrid_builder.yml", 39, "builder.arch", refusedMultiarch,
		},
		"v2/deploy_with_local_registry_and_hybrid_builder.yml": {
			"testdata/kamal-compat/v2/deploy_with_local_registry_and_hybrid_builder.yml", 11, "builder.arch", refusedMultiarch,
		},
		"v2/deploy_with_error_pages.yml": {
			"testdata/kamal-compat/v2/deploy_with_error_pages.yml", 11, "error_pages_path",
			"public (relative to the app root): no such directory",
		},
	}
	n := 0
	for _, gen := range []string{"v1", "v2"} {
		files, err := filepath.Glob(filepath.Join("testdata", "kamal-compat", gen, "*.yml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures for %s: %v", gen, err)
		}
		for _, f := range files {
			base := filepath.Base(f)
			if strings.Count(base, ".") > 1 {
				continue // a destination file, loaded with its base
			}
			dest := ""
			if strings.Contains(base, "_for_") {
				dest = "world"
			}
			name := gen + "/" + base
			t.Run(name, func(t *testing.T) {
				n++
				c, err := loadCompat(t, gen, base, dest)
				if want, bad := failing[name]; bad {
					if got, ok := locate(err); !ok || got != want {
						t.Fatalf("want %#v, got %v", want, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if c.Service == "" || len(c.Roles) == 0 || c.PrimaryHost == "" {
					t.Fatalf("incomplete config: service=%q roles=%v primary=%q", c.Service, c.RoleNames(), c.PrimaryHost)
				}
				// Every role/host builds a valid wire spec.
				for _, r := range c.Roles {
					for _, h := range r.Hosts {
						if _, err := c.Deploy(r.Name, h, "abc123", c.Image+":abc123", ""); err != nil {
							t.Fatalf("deploy spec %s/%s: %v", r.Name, h, err)
						}
					}
				}
			})
		}
	}
	if n < 59 {
		t.Fatalf("only %d fixtures exercised", n)
	}
}

func TestKamalCompatRequiredDestination(t *testing.T) {
	for _, gen := range []string{"v1", "v2"} {
		_, err := loadCompat(t, gen, "deploy_for_required_dest.yml", "")
		if !errors.Is(err, ErrDestinationRequired) {
			t.Fatalf("%s without -d: want ErrDestinationRequired, got %v", gen, err)
		}
		got, ok := locate(err)
		if !ok || got.File != filepath.Join("testdata", "kamal-compat", gen, "deploy_for_required_dest.yml") || got.Line == 0 || got.Key != "require_destination" {
			t.Fatalf("%s: error lacks file:line and key: %v", gen, err)
		}
		if _, err := loadCompat(t, gen, "deploy_for_required_dest.yml", "world"); err != nil {
			t.Fatalf("%s with -d world: %v", gen, err)
		}
	}
}

package spec

import (
	"reflect"
	"testing"
	"time"
)

// TestKamalCompatMeaning asserts what Kamal's own configuration tests say
// the fixtures mean: roles, hosts, primary, proxy roles, env per host, boot
// batches, accessories, registries, destinations.
func TestKamalCompatMeaning(t *testing.T) {
	eq := func(t *testing.T, what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	proxyRoles := func(c *Config) []string {
		var out []string
		for _, r := range c.Roles {
			if r.Proxy != nil {
				out = append(out, r.Name)
			}
		}
		return out
	}
	tests := []struct {
		gen, file, dest string
		check           func(t *testing.T, c *Config)
	}{
		{"v2", "deploy_simple.yml", "", func(t *testing.T, c *Config) {
			eq(t, "roles", c.RoleNames(), []string{"web"})
			eq(t, "hosts", c.AllHosts(), []string{"1.1.1.1", "1.1.1.2"})
			eq(t, "primary host", c.PrimaryHost, "1.1.1.1")
			eq(t, "proxy roles", proxyRoles(c), []string{"web"})
			eq(t, "registry", [2]string{c.Registry.Username, c.Registry.Password}, [2]string{"user", "pw"})
			eq(t, "retain", c.RetainContainers, 5)
			eq(t, "logging", c.Role("web").Logging.Options, map[string]string{"max-size": "10m"})
		}},
		{"v2", "deploy_with_roles.yml", "", func(t *testing.T, c *Config) {
			eq(t, "roles", c.RoleNames(), []string{"web", "workers"})
			eq(t, "proxy roles", proxyRoles(c), []string{"web"})
			eq(t, "workers env", c.Role("workers").Env.Clear, map[string]string{"REDIS_URL": "redis://x/y"})
			eq(t, "deploy timeout", c.DeployTimeout.D(), time.Second)
		}},
		{"v2", "deploy_with_roles_workers_primary.yml", "", func(t *testing.T, c *Config) {
			eq(t, "primary", c.PrimaryRole, "workers")
			eq(t, "primary host", c.PrimaryHost, "1.1.1.1")
			eq(t, "proxy roles (primary runs the proxy)", proxyRoles(c), []string{"workers"})
		}},
		{"v2", "deploy_primary_web_role_override.yml", "", func(t *testing.T, c *Config) {
			eq(t, "primary host", c.PrimaryHost, "1.1.1.3")
			eq(t, "proxy roles", proxyRoles(c), []string{"web_chicago", "web_tokyo"})
		}},
		{"v2", "deploy_with_extensions.yml", "", func(t *testing.T, c *Config) {
			eq(t, "proxy roles (x- anchor merged)", proxyRoles(c), []string{"web_chicago", "web_tokyo"})
			eq(t, "primary", c.PrimaryRole, "web_tokyo")
		}},
		{"v1", "deploy_with_extensions.yml", "", func(t *testing.T, c *Config) {
			eq(t, "generation", c.Generation, Kamal1)
			eq(t, "traefik roles", proxyRoles(c), []string{"web_chicago", "web_tokyo"})
		}},
		{"v2", "deploy_with_multiple_proxy_roles.yml", "", func(t *testing.T, c *Config) {
			eq(t, "proxy roles", proxyRoles(c), []string{"web", "web_tokyo"})
			eq(t, "proxy hosts", c.ProxyHosts(), []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"})
			eq(t, "workers cmd", c.Role("workers").Cmd, "bin/jobs")
			eq(t, "web env", c.Role("web").Env.Clear, map[string]string{"REDIS_URL": "redis://x/y", "ROLE": "web"})
		}},
		{"v1", "deploy_with_multiple_traefik_roles.yml", "", func(t *testing.T, c *Config) {
			eq(t, "traefik roles", proxyRoles(c), []string{"web", "web_tokyo"})
		}},
		{"v2", "deploy_with_only_workers.yml", "", func(t *testing.T, c *Config) {
			eq(t, "proxy roles (proxy: false on primary)", proxyRoles(c), []string(nil))
		}},
		{"v1", "deploy_workers_only.yml", "", func(t *testing.T, c *Config) {
			eq(t, "traefik roles (traefik: false on primary)", proxyRoles(c), []string(nil))
		}},
		{"v2", "deploy_with_proxy_roles.yml", "", func(t *testing.T, c *Config) {
			eq(t, "proxy roles", proxyRoles(c), []string{"web", "web2"})
			eq(t, "web response timeout (root)", c.Role("web").Proxy.ResponseTimeout.D(), 10*time.Second)
			eq(t, "web2 response timeout (role over root)", c.Role("web2").Proxy.ResponseTimeout.D(), 15*time.Second)
		}},
		{"v2", "deploy_with_proxy.yml", "", func(t *testing.T, c *Config) {
			eq(t, "deploy timeout", c.DeployTimeout.D(), 6*time.Second)
			eq(t, "readiness delay", c.ReadinessDelay.D(), time.Duration(0))
		}},
		{"v2", "deploy_with_env_tags.yml", "", func(t *testing.T, c *Config) {
			web := c.Role("web")
			eq(t, "1.1.1.1 env", c.HostEnv(web, "1.1.1.1").Clear, map[string]string{"TEST": "root", "EXPERIMENT": "disabled", "SITE": "site1"})
			eq(t, "1.2.1.1 env", c.HostEnv(web, "1.2.1.1").Clear, map[string]string{"TEST": "root", "EXPERIMENT": "disabled", "SITE": "site2"})
			// `[ site1 experimental ]` is one YAML scalar: one tag no env defines.
			eq(t, "1.1.1.2 tags", web.HostTags["1.1.1.2"], []string{"site1 experimental"})
			eq(t, "1.1.1.2 env", c.HostEnv(web, "1.1.1.2").Clear, map[string]string{"TEST": "root", "EXPERIMENT": "disabled"})
			d, err := c.Deploy("workers", "1.2.1.3", "v", "i", "")
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "workers 1.2.1.3 wire env", d.Env, map[string]string{"TEST": "root", "EXPERIMENT": "disabled", "SITE": "site2"})
		}},
		{"v1", "deploy_with_env_tags.yml", "", func(t *testing.T, c *Config) {
			eq(t, "tags", len(c.EnvTags), 3)
			eq(t, "experimental", c.EnvTags["experimental"].Clear, map[string]string{"EXPERIMENT": "enabled"})
		}},
		{"v2", "deploy_with_boot_strategy.yml", "", func(t *testing.T, c *Config) {
			eq(t, "limit", c.Boot.Limit, "3")
			eq(t, "wait", c.Boot.Wait.D(), 2*time.Second)
			eq(t, "batches of 4", c.Batches([]string{"a", "b", "c", "d"}), [][]string{{"a", "b", "c"}, {"d"}})
		}},
		{"v1", "deploy_with_percentage_boot_strategy.yml", "", func(t *testing.T, c *Config) {
			eq(t, "1% of 4 hosts is at least 1", c.Boot.BatchSize(4), 1)
		}},
		{"v1", "deploy_with_low_percentage_boot_strategy.yml", "", func(t *testing.T, c *Config) {
			eq(t, "batch", c.Boot.BatchSize(4), 1)
		}},
		{"v2", "deploy_with_parallel_roles.yml", "", func(t *testing.T, c *Config) {
			eq(t, "parallel roles", c.Boot.ParallelRoles, true)
			eq(t, "no limit: all at once", c.Boot.BatchSize(3), 3)
		}},
		{"v2", "deploy_with_two_roles_one_host.yml", "", func(t *testing.T, c *Config) {
			eq(t, "hosts", c.AllHosts(), []string{"1.1.1.1"})
			eq(t, "roles on host", len(c.HostRoles("1.1.1.1")), 2)
		}},
		{"v2", "deploy_with_accessories.yml", "", func(t *testing.T, c *Config) {
			my := c.Accessory("mysql")
			eq(t, "mysql", [3]string{my.Service, my.Image, my.Port}, [3]string{"app-mysql", "mysql:5.7", "3306"})
			eq(t, "mysql hosts", my.Hosts, []string{"1.1.1.3"})
			eq(t, "mysql env", my.Env, Env{Clear: map[string]string{"MYSQL_ROOT_HOST": "%"}, Secret: []SecretRef{{"MYSQL_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD"}}})
			eq(t, "mysql files", my.Files, []Mount{{Local: "test/fixtures/files/my.cnf", Remote: "/etc/mysql/my.cnf"}})
			eq(t, "redis hosts (roles: web)", c.Accessory("redis").Hosts, []string{"1.1.1.1", "1.1.1.2"})
			eq(t, "all hosts", c.AllHosts(), []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"})
			v, _ := c.Secret("MYSQL_ROOT_PASSWORD")
			eq(t, "secret", v, "mysql-root-secret")
		}},
		{"v2", "deploy_with_accessories_on_independent_server.yml", "", func(t *testing.T, c *Config) {
			eq(t, "all hosts", c.AllHosts(), []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"})
			eq(t, "app hosts", c.AppHosts(), []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"})
		}},
		{"v2", "deploy_with_accessories_with_different_registries.yml", "", func(t *testing.T, c *Config) {
			bb := c.Accessory("busybox")
			eq(t, "service", bb.Service, "custom-box")
			eq(t, "registry", [3]string{bb.Registry.Server, bb.Registry.Username, bb.Registry.Password}, [3]string{"other.registry", "other_user", "other_pw"})
			eq(t, "mysql registry (none: image carries the server)", c.Accessory("mysql").Registry, (*Registry)(nil))
		}},
		{"v2", "deploy_with_local_registry.yml", "", func(t *testing.T, c *Config) {
			eq(t, "local", c.Registry.Local(), true)
		}},
		{"v2", "deploy.erb.yml", "", func(t *testing.T, c *Config) {
			eq(t, "ERB username", c.Registry.Username, "my-user")
			eq(t, "ERB password", c.Registry.Password, "my-password")
		}},
		{"v2", "deploy_for_dest.yml", "world", func(t *testing.T, c *Config) {
			eq(t, "first host", c.AllHosts()[0], "1.1.1.1")
			eq(t, "env", c.Env.Clear["REDIS_URL"], "redis://x/y")
			eq(t, "destination", c.Destination, "world")
		}},
		{"v2", "deploy_for_dest.yml", "mars", func(t *testing.T, c *Config) {
			eq(t, "first host", c.AllHosts()[0], "1.1.1.3")
			eq(t, "env", c.Env.Clear["REDIS_URL"], "redis://a/b")
		}},
		{"v1", "deploy_for_dest.yml", "mars", func(t *testing.T, c *Config) {
			eq(t, "first host", c.AllHosts()[0], "1.1.1.3")
		}},
		{"v2", "deploy.yml", "elsewhere", func(t *testing.T, c *Config) {
			eq(t, "service from destination", c.Service, "app3")
			eq(t, "hosts", c.AllHosts(), []string{"1.1.1.3", "1.1.1.4"})
			eq(t, "alias", c.Aliases["other_destination_config"], "config -d elsewhere")
		}},
		{"v2", "deploy_with_aliases.yml", "", func(t *testing.T, c *Config) {
			eq(t, "aliases", len(c.Aliases), 6)
			eq(t, "console", c.Aliases["console"], `app exec --reuse -p -r console "bin/console"`)
		}},
		{"v2", "deploy_with_secrets.yml", "", func(t *testing.T, c *Config) {
			d, err := c.Deploy("web", "1.1.1.1", "v", "i", "")
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "secret env", d.SecretEnv, map[string]string{"PASSWORD": "app-password-secret"})
		}},
		{"v1", "deploy_with_remote_builder.yml", "", func(t *testing.T, c *Config) {
			eq(t, "remote (Kamal 1 mapping)", c.Builder.Remote, "ssh://app@1.1.1.5")
			eq(t, "arch", c.Builder.Arch, []string{"amd64"})
		}},
		{"v2", "deploy_with_remote_builder_and_custom_ports.yml", "", func(t *testing.T, c *Config) {
			eq(t, "ssh", [2]any{c.SSH.User, c.SSH.Port}, [2]any{"root", 22})
			eq(t, "remote", c.Builder.Remote, "ssh://app@1.1.1.5:2122")
		}},
		{"v2", "deploy_without_clone.yml", "", func(t *testing.T, c *Config) {
			eq(t, "context", c.Builder.Context, ".")
		}},
		{"v2", "deploy_with_assets.yml", "", func(t *testing.T, c *Config) {
			eq(t, "asset path", c.Role("web").AssetPath, "/public/assets")
		}},
		{"v2", "deploy_with_uncommon_hostnames.yml", "", func(t *testing.T, c *Config) {
			eq(t, "primary", c.PrimaryHost, "this-hostname-with-random-part-is-too-long.example.com")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.gen+"/"+tc.file+"/"+tc.dest, func(t *testing.T) {
			c, err := loadCompat(t, tc.gen, tc.file, tc.dest)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

package spec

// The normalised config model: what a Kamal 1 or Kamal 2 deploy.yml (plus
// its destination file and secrets) means, in one shape. Secret values are
// never held in exported fields that marshal: types holding secret names
// marshal them redacted, so any YAML of a Config is safe to print. Each
// section's type lives in the file that normalises it.

import (
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Defaults for the config, as Kamal has them.
const (
	DefaultPrimaryRole       = "web"
	DefaultHooksPath         = ".kamal/hooks"
	DefaultSecretsPath       = ".kamal/secrets"
	DefaultLogMaxSize        = "10m"
	DefaultKamal1HealthPort  = 3000
	DefaultKamal1MaxAttempts = 7
	DefaultSSHUser           = "root"
	DefaultSSHPort           = 22
	DefaultMigrationTimeout  = 10 * time.Minute
	DefaultCertResolver      = "letsencrypt"
	DefaultSidecarMonitor    = "127.0.0.1:9321"
	// DefaultKeepWarm is sidecar.keep_warm: how long a replaced web
	// container keeps running out of rotation for a fast rollback.
	DefaultKeepWarm = 3 * time.Minute
)

// Config is a loaded, validated, normalised deploy config.
type Config struct {
	Service     string `yaml:"service"`
	Image       string `yaml:"image"`
	Destination string `yaml:"destination,omitempty"`
	// Generation is Kamal1 or Kamal2, detected from the keys used.
	Generation int `yaml:"kamal_generation"`
	// MinimumVersion of Kamal the config asks for (informative).
	MinimumVersion string    `yaml:"minimum_version,omitempty"`
	Registry       *Registry `yaml:"registry,omitempty"`
	// Roles in Kamal's order (sorted by name).
	Roles       []*Role `yaml:"roles"`
	PrimaryRole string  `yaml:"primary_role"`
	PrimaryHost string  `yaml:"primary_host,omitempty"`
	// Env is the root env (before role and tag env are merged in).
	Env Env `yaml:"env,omitempty"`
	// EnvTags are the env of each host tag.
	EnvTags     map[string]Env `yaml:"env_tags,omitempty"`
	Accessories []*Accessory   `yaml:"accessories,omitempty"`
	Boot        Boot           `yaml:"boot"`
	// Proxy is the root proxy section (Kamal 2); roles merge over it.
	Proxy *ProxyConfig `yaml:"proxy,omitempty"`
	// Traefik is the Kamal 1 traefik section.
	Traefik *Traefik `yaml:"traefik,omitempty"`
	// Healthcheck is the Kamal 1 root healthcheck; roles merge over it.
	Healthcheck *Kamal1Healthcheck `yaml:"healthcheck,omitempty"`

	ReadinessDelay contract.Duration `yaml:"readiness_delay"`
	DeployTimeout  contract.Duration `yaml:"deploy_timeout"`
	DrainTimeout   contract.Duration `yaml:"drain_timeout"`
	// StopTimeout is nil when unset (Kamal: drain_timeout for roles
	// without proxy, Docker's default otherwise). stop_wait_time (Kamal 1)
	// lands here too.
	StopTimeout      *contract.Duration `yaml:"stop_timeout,omitempty"`
	RetainContainers int                `yaml:"retain_containers"`

	HooksPath      string `yaml:"hooks_path"`
	SecretsPath    string `yaml:"secrets_path"`
	AssetPath      string `yaml:"asset_path,omitempty"`
	ErrorPagesPath string `yaml:"error_pages_path,omitempty"`
	// errorPages are the pages read from ErrorPagesPath (status → HTML).
	errorPages   map[string]string
	RunDirectory string `yaml:"run_directory,omitempty"`
	// HooksOutput is "quiet"/"verbose" per hook name; "*" for all hooks.
	HooksOutput map[string]string `yaml:"hooks_output,omitempty"`

	Aliases            map[string]string `yaml:"aliases,omitempty"`
	Logging            Logging           `yaml:"logging"`
	Volumes            []string          `yaml:"volumes,omitempty"`
	Labels             map[string]string `yaml:"labels,omitempty"`
	Builder            Builder           `yaml:"builder"`
	SSH                SSH               `yaml:"ssh"`
	SSHKit             *SSHKit           `yaml:"sshkit,omitempty"`
	Output             *Output           `yaml:"output,omitempty"`
	AllowEmptyRoles    bool              `yaml:"allow_empty_roles,omitempty"`
	RequireDestination bool              `yaml:"require_destination,omitempty"`

	// Migrations (extension): a command run once on the primary host with
	// the new image before any container is swapped.
	Migrations *Migrations `yaml:"migrations,omitempty"`
	// Sidecar (extension): settings of the per-host sidecar.
	Sidecar Sidecar `yaml:"sidecar"`
	// ACMESettings (extension): the ACME account and directory of the
	// certificate resolver automatic SSL uses; nil when acme: is unset.
	ACMESettings *ACMESettings `yaml:"acme,omitempty"`

	// secrets holds every resolved secret value by secret name.
	secrets map[string]string
	// hookSecrets loads every value of the secrets files (see
	// HookSecrets); set while loading.
	hookSecrets *hookSecrets
	// files are the config files read, base first (for messages).
	files []string
}

// RoleNames returns the role names in order.
func (c *Config) RoleNames() []string {
	names := make([]string, len(c.Roles))
	for i, r := range c.Roles {
		names[i] = r.Name
	}
	return names
}

// Role returns the named role, or nil.
func (c *Config) Role(name string) *Role {
	for _, r := range c.Roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Accessory returns the named accessory, or nil.
func (c *Config) Accessory(name string) *Accessory {
	for _, a := range c.Accessories {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AllHosts returns every host of roles and accessories, first seen first.
func (c *Config) AllHosts() []string {
	var lists [][]string
	for _, r := range c.Roles {
		lists = append(lists, r.Hosts)
	}
	for _, a := range c.Accessories {
		lists = append(lists, a.Hosts)
	}
	return uniq(lists...)
}

// AppHosts returns every host of any role, first seen first.
func (c *Config) AppHosts() []string {
	var lists [][]string
	for _, r := range c.Roles {
		lists = append(lists, r.Hosts)
	}
	return uniq(lists...)
}

// HostRoles returns the roles that run on host.
func (c *Config) HostRoles(host string) []*Role {
	var out []*Role
	for _, r := range c.Roles {
		for _, h := range r.Hosts {
			if h == host {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// ProxyHosts returns hosts running a proxied role or accessory.
func (c *Config) ProxyHosts() []string {
	var lists [][]string
	for _, r := range c.Roles {
		if r.Proxy != nil {
			lists = append(lists, r.Hosts)
		}
	}
	for _, a := range c.Accessories {
		if a.Proxy != nil {
			lists = append(lists, a.Hosts)
		}
	}
	return uniq(lists...)
}

// Files returns the config files that were read, base first.
func (c *Config) Files() []string { return append([]string(nil), c.files...) }

func uniq(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, h := range l {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	return out
}

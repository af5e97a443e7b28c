package spec

// The normalised config model: what a Kamal 1 or Kamal 2 deploy.yml (plus
// its destination file and secrets) means, in one shape. Secret values are
// never held in exported fields that marshal: types holding secret names
// marshal them redacted, so any YAML of a Config is safe to print.

import (
	"sort"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Kamal generations a config can be written for.
const (
	Kamal1 = 1 // traefik:, top-level healthcheck:, stop_wait_time
	Kamal2 = 2 // proxy:
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
	RunDirectory   string `yaml:"run_directory,omitempty"`
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

	// secrets holds every resolved secret value by secret name.
	secrets map[string]string
	// files are the config files read, base first (for messages).
	files []string
}

// Registry is where the app image is pushed and pulled.
type Registry struct {
	Server   string `yaml:"server,omitempty"`
	Username string `yaml:"username,omitempty"`
	// Password is the resolved password. Never marshalled.
	Password string `yaml:"-"`
	// PasswordSecret names the secret the password came from, if any.
	PasswordSecret string `yaml:"-"`
}

// MarshalYAML redacts the password.
func (r Registry) MarshalYAML() (any, error) {
	type view struct {
		Server   string `yaml:"server,omitempty"`
		Username string `yaml:"username,omitempty"`
		Password string `yaml:"password,omitempty"`
	}
	v := view{Server: r.Server, Username: r.Username}
	if r.Password != "" || r.PasswordSecret != "" {
		v.Password = contract.Redacted
	}
	return v, nil
}

// Local reports a registry on localhost (Kamal starts one and pushes there).
func (r *Registry) Local() bool {
	return r != nil && (len(r.Server) >= 9 && r.Server[:9] == "localhost" || len(r.Server) >= 9 && r.Server[:9] == "127.0.0.1")
}

// SecretRef is one env.secret entry: env var Name takes secret From
// (`A:B` in deploy.yml; From == Name without a colon).
type SecretRef struct {
	Name string
	From string
}

// Env is a set of environment variables: clear values and secret names.
type Env struct {
	Clear  map[string]string
	Secret []SecretRef
}

// MarshalYAML prints secrets by name, values redacted.
func (e Env) MarshalYAML() (any, error) {
	type view struct {
		Clear  map[string]string `yaml:"clear,omitempty"`
		Secret map[string]string `yaml:"secret,omitempty"`
	}
	v := view{Clear: e.Clear}
	if len(e.Secret) > 0 {
		v.Secret = map[string]string{}
		for _, s := range e.Secret {
			v.Secret[s.Name] = contract.Redacted
		}
	}
	return v, nil
}

// IsZero lets omitempty drop an empty env.
func (e Env) IsZero() bool { return len(e.Clear) == 0 && len(e.Secret) == 0 }

// merge returns e with o over it, as Kamal merges env: clear values are
// overridden key by key, secrets are the union (o's alias wins for a name).
func (e Env) merge(o Env) Env {
	out := Env{Clear: map[string]string{}}
	for k, v := range e.Clear {
		out.Clear[k] = v
	}
	for k, v := range o.Clear {
		out.Clear[k] = v
	}
	idx := map[string]int{}
	for _, s := range append(append([]SecretRef{}, e.Secret...), o.Secret...) {
		if i, ok := idx[s.Name]; ok {
			out.Secret[i] = s
			continue
		}
		idx[s.Name] = len(out.Secret)
		out.Secret = append(out.Secret, s)
	}
	if len(out.Clear) == 0 {
		out.Clear = nil
	}
	return out
}

// Role is one server role with everything merged from the root.
type Role struct {
	Name  string   `yaml:"name"`
	Hosts []string `yaml:"hosts"`
	// HostTags are the tags of each host that has some.
	HostTags map[string][]string `yaml:"host_tags,omitempty"`
	Primary  bool                `yaml:"primary,omitempty"`
	Cmd      string              `yaml:"cmd,omitempty"`
	// Options are docker run options (`--key value`), restart included.
	Options map[string][]string `yaml:"options,omitempty"`
	// Labels are the config labels (root merged with role), without
	// Kamal's default service/role/destination labels.
	Labels map[string]string `yaml:"labels,omitempty"`
	// Env is root env merged with role env; host tags come on top per host.
	Env     Env     `yaml:"env,omitempty"`
	Logging Logging `yaml:"logging"`
	// Proxy is the role's proxy settings (root merged with role); nil when
	// the role runs no proxy.
	Proxy *ProxyConfig `yaml:"proxy,omitempty"`
	// Healthcheck is the Kamal 1 healthcheck (root merged with role).
	Healthcheck *Kamal1Healthcheck `yaml:"healthcheck,omitempty"`
	StopTimeout *contract.Duration `yaml:"stop_timeout,omitempty"`
	AssetPath   string             `yaml:"asset_path,omitempty"`
}

// ProxyConfig is the routing of a role (Kamal 2 proxy, or Kamal 1 traefik: true).
type ProxyConfig struct {
	Hosts   []string `yaml:"hosts,omitempty"`
	AppPort int      `yaml:"app_port,omitempty"`
	SSL     bool     `yaml:"ssl,omitempty"`
	// SSLCertificatePEM and SSLPrivateKeyPEM name secrets holding a custom
	// certificate (proxy.ssl as a mapping).
	SSLCertificatePEM string            `yaml:"ssl_certificate_pem,omitempty"`
	SSLPrivateKeyPEM  string            `yaml:"ssl_private_key_pem,omitempty"`
	SSLRedirect       *bool             `yaml:"ssl_redirect,omitempty"`
	ForwardHeaders    *bool             `yaml:"forward_headers,omitempty"`
	ResponseTimeout   contract.Duration `yaml:"response_timeout,omitempty"`
	PathPrefixes      []string          `yaml:"path_prefixes,omitempty"`
	StripPathPrefix   *bool             `yaml:"strip_path_prefix,omitempty"`
	Healthcheck       struct {
		Path     string            `yaml:"path,omitempty"`
		Interval contract.Duration `yaml:"interval,omitempty"`
		Timeout  contract.Duration `yaml:"timeout,omitempty"`
	} `yaml:"healthcheck,omitempty"`
	Buffering *ProxyBuffering `yaml:"buffering,omitempty"`
	Logging   *ProxyLogging   `yaml:"logging,omitempty"`
	Run       *ProxyRun       `yaml:"run,omitempty"`
	// TraefikLabels are Kamal 1 role labels starting with "traefik.".
	TraefikLabels map[string]string `yaml:"traefik_labels,omitempty"`
}

// ProxyBuffering is proxy.buffering.
type ProxyBuffering struct {
	Requests        *bool `yaml:"requests,omitempty" kamal:"requests"`
	Responses       *bool `yaml:"responses,omitempty" kamal:"responses"`
	MaxRequestBody  int64 `yaml:"max_request_body,omitempty" kamal:"max_request_body"`
	MaxResponseBody int64 `yaml:"max_response_body,omitempty" kamal:"max_response_body"`
	Memory          int64 `yaml:"memory,omitempty" kamal:"memory"`
}

// ProxyLogging is proxy.logging.
type ProxyLogging struct {
	RequestHeaders  []string `yaml:"request_headers,omitempty" kamal:"request_headers"`
	ResponseHeaders []string `yaml:"response_headers,omitempty" kamal:"response_headers"`
}

// ProxyRun is proxy.run: how the proxy container on a host is booted.
type ProxyRun struct {
	HTTPPort    int                 `yaml:"http_port,omitempty" kamal:"http_port"`
	HTTPSPort   int                 `yaml:"https_port,omitempty" kamal:"https_port"`
	MetricsPort int                 `yaml:"metrics_port,omitempty" kamal:"metrics_port"`
	Debug       *bool               `yaml:"debug,omitempty" kamal:"debug"`
	LogMaxSize  string              `yaml:"log_max_size,omitempty" kamal:"log_max_size"`
	Publish     *bool               `yaml:"publish,omitempty" kamal:"publish"`
	BindIPs     []string            `yaml:"bind_ips,omitempty" kamal:"bind_ips"`
	Registry    string              `yaml:"registry,omitempty" kamal:"registry"`
	Repository  string              `yaml:"repository,omitempty" kamal:"repository"`
	Version     string              `yaml:"version,omitempty" kamal:"version"`
	Options     map[string][]string `yaml:"options,omitempty" kamal:"options"`
}

// Traefik is the Kamal 1 traefik section (the proxy container's settings).
type Traefik struct {
	Image    string              `yaml:"image,omitempty"`
	HostPort string              `yaml:"host_port,omitempty"`
	Publish  *bool               `yaml:"publish,omitempty"`
	Labels   map[string]string   `yaml:"labels,omitempty"`
	Args     map[string]string   `yaml:"args,omitempty"`
	Options  map[string][]string `yaml:"options,omitempty"`
	Env      Env                 `yaml:"env,omitempty"`
}

// Kamal1Healthcheck is Kamal 1's healthcheck section.
type Kamal1Healthcheck struct {
	Cmd         string            `yaml:"cmd,omitempty"`
	Path        string            `yaml:"path,omitempty"`
	Port        int               `yaml:"port,omitempty"`
	Interval    contract.Duration `yaml:"interval,omitempty"`
	MaxAttempts int               `yaml:"max_attempts,omitempty"`
	Cord        string            `yaml:"cord,omitempty"`
	LogLines    int               `yaml:"log_lines,omitempty"`
}

// Logging is docker's log driver and options.
type Logging struct {
	Driver  string            `yaml:"driver,omitempty"`
	Options map[string]string `yaml:"options,omitempty"`
}

// Accessory is a long-running companion service (db, redis, ...).
type Accessory struct {
	Name string `yaml:"name"`
	// Service is the container name (default <service>-<name>).
	Service  string    `yaml:"service"`
	Image    string    `yaml:"image"`
	Registry *Registry `yaml:"registry,omitempty"`
	// Hosts are resolved from host/hosts/role/roles/tag/tags.
	Hosts       []string            `yaml:"hosts"`
	Cmd         string              `yaml:"cmd,omitempty"`
	Port        string              `yaml:"port,omitempty"`
	Labels      map[string]string   `yaml:"labels,omitempty"`
	Options     map[string][]string `yaml:"options,omitempty"`
	Env         Env                 `yaml:"env,omitempty"`
	Files       []Mount             `yaml:"files,omitempty"`
	Directories []Mount             `yaml:"directories,omitempty"`
	Volumes     []string            `yaml:"volumes,omitempty"`
	Network     string              `yaml:"network,omitempty"`
	Proxy       *ProxyConfig        `yaml:"proxy,omitempty"`
}

// Mount is an accessory file or directory (`local:remote[:options]` or the
// mapping form).
type Mount struct {
	Local   string `yaml:"local"`
	Remote  string `yaml:"remote"`
	Mode    string `yaml:"mode,omitempty"`
	Owner   string `yaml:"owner,omitempty"`
	Options string `yaml:"options,omitempty"`
}

// Boot is how hosts are batched during a deploy.
type Boot struct {
	// Limit as written: "" (all at once), "3" or "25%".
	Limit         string            `yaml:"limit,omitempty"`
	Wait          contract.Duration `yaml:"wait,omitempty"`
	ParallelRoles bool              `yaml:"parallel_roles"`
	count         int
	percent       int
	hostCount     int
}

// BatchSize is how many hosts boot at a time when n hosts are deployed; n
// when there is no limit. Percentages are of all the config's hosts, as in
// Kamal, and never below 1.
func (b Boot) BatchSize(n int) int {
	size := n
	switch {
	case b.count > 0:
		size = b.count
	case b.percent > 0:
		size = b.hostCount * b.percent / 100
		if size < 1 {
			size = 1
		}
	}
	if size > n {
		size = n
	}
	if size < 1 {
		size = 1
	}
	return size
}

// Builder is how the image is built.
type Builder struct {
	Arch       []string          `yaml:"arch,omitempty"`
	Remote     string            `yaml:"remote,omitempty"`
	Local      *bool             `yaml:"local,omitempty"`
	Driver     string            `yaml:"driver,omitempty"`
	Context    string            `yaml:"context,omitempty"`
	Dockerfile string            `yaml:"dockerfile,omitempty"`
	Target     string            `yaml:"target,omitempty"`
	Args       map[string]string `yaml:"args,omitempty"`
	// Secrets are build secret names (values from the secrets files).
	Secrets    []string      `yaml:"secrets,omitempty"`
	SSH        string        `yaml:"ssh,omitempty"`
	Cache      *BuilderCache `yaml:"cache,omitempty"`
	Pack       *BuilderPack  `yaml:"pack,omitempty"`
	Provenance string        `yaml:"provenance,omitempty"`
	SBOM       string        `yaml:"sbom,omitempty"`
	// Multiarch is Kamal 1's builder.multiarch.
	Multiarch *bool `yaml:"multiarch,omitempty"`
}

// BuilderCache is builder.cache.
type BuilderCache struct {
	Type    string `yaml:"type,omitempty" kamal:"type"`
	Options string `yaml:"options,omitempty" kamal:"options"`
	Image   string `yaml:"image,omitempty" kamal:"image"`
}

// BuilderPack is builder.pack (Cloud Native Buildpacks).
type BuilderPack struct {
	Builder    string   `yaml:"builder,omitempty" kamal:"builder"`
	Buildpacks []string `yaml:"buildpacks,omitempty" kamal:"buildpacks"`
}

// SSH is how hosts are reached.
type SSH struct {
	User         string `yaml:"user"`
	Port         int    `yaml:"port"`
	Proxy        string `yaml:"proxy,omitempty"`
	ProxyCommand string `yaml:"proxy_command,omitempty"`
	LogLevel     string `yaml:"log_level,omitempty"`
	KeysOnly     bool   `yaml:"keys_only,omitempty"`
	// Keys are private key files.
	Keys []string `yaml:"keys,omitempty"`
	// KeyData are resolved private keys (from secrets). Never marshalled.
	KeyData []string `yaml:"-"`
	// Config: nil means the default OpenSSH config files; an empty
	// non-nil list means none; otherwise these files.
	Config       []string `yaml:"config,omitempty"`
	ForwardAgent *bool    `yaml:"forward_agent,omitempty"`
}

// SSHKit holds connection pool tunables.
type SSHKit struct {
	MaxConcurrentStarts int `yaml:"max_concurrent_starts,omitempty" kamal:"max_concurrent_starts"`
	PoolIdleTimeout     int `yaml:"pool_idle_timeout,omitempty" kamal:"pool_idle_timeout"`
	DNSRetries          int `yaml:"dns_retries,omitempty" kamal:"dns_retries"`
}

// Output is where command output logs go.
type Output struct {
	OTelEndpoint string `yaml:"otel_endpoint,omitempty"`
	FilePath     string `yaml:"file_path,omitempty"`
}

// Migrations is the migrations extension.
type Migrations struct {
	Cmd     string            `yaml:"cmd"`
	Timeout contract.Duration `yaml:"timeout"`
}

// Sidecar is the sidecar extension.
type Sidecar struct {
	// Monitor is the address of the read-only monitoring listener.
	Monitor string `yaml:"monitor"`
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

// SecretNames returns the names of every resolved secret, sorted.
func (c *Config) SecretNames() []string {
	var out []string
	for k := range c.secrets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SecretValues returns every resolved secret value; callers use it to scrub
// output (never to print).
func (c *Config) SecretValues() []string {
	var out []string
	for _, v := range c.secrets {
		if v != "" {
			out = append(out, v)
		}
	}
	if c.Registry != nil && c.Registry.Password != "" {
		out = append(out, c.Registry.Password)
	}
	for _, a := range c.Accessories {
		if a.Registry != nil && a.Registry.Password != "" {
			out = append(out, a.Registry.Password)
		}
	}
	return out
}

// Secret returns a resolved secret by name.
func (c *Config) Secret(name string) (string, bool) {
	v, ok := c.secrets[name]
	return v, ok
}

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

package contract

// The wire spec: what the plugin sends to one host's sidecar. It is a contract
// between two binaries that may be built from different commits, so it is
// versioned, every field is documented, and decoding rejects unknown fields.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the only wire-spec version this build reads and writes.
const APIVersion = "docker-kamal/v1"

// DefaultNetwork is the Docker network app containers, Traefik and the
// sidecar share on every host.
const DefaultNetwork = "kamal"

// Defaults for the wire spec, applied by Deploy.ApplyDefaults.
const (
	DefaultDeployTimeout    = 30 * time.Second
	DefaultDrainTimeout     = 30 * time.Second
	DefaultStopTimeout      = 30 * time.Second
	DefaultReadinessDelay   = 7 * time.Second
	DefaultRetainContainers = 5
	DefaultAppPort          = 80
	DefaultHealthPath       = "/up"
	DefaultHealthInterval   = 200 * time.Millisecond
	DefaultHealthTimeout    = 5 * time.Second
)

// NamePattern is what service, role, destination and network names must
// match: they become parts of container and Traefik object names.
const NamePattern = `^[a-z0-9][a-z0-9_-]*$`

var nameRE = regexp.MustCompile(NamePattern)

// ValidName reports whether s matches NamePattern.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// versionRE allows git SHAs, tags and the `_uncommitted_<hash>` suffix, all of
// which must be usable inside a container name.
var versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Deploy is one (service, destination, role, host) unit of work for a sidecar.
type Deploy struct {
	// APIVersion must equal APIVersion.
	APIVersion string `json:"apiVersion"`
	// Service is the Kamal service name (`service:` in deploy.yml).
	Service string `json:"service"`
	// Destination is the `-d` destination, empty for none.
	Destination string `json:"destination,omitempty"`
	// Role is the server role, e.g. "web" or "job".
	Role string `json:"role"`
	// Host is the host as named in deploy.yml; informative (audit, status).
	Host string `json:"host,omitempty"`
	// Version is the app version being deployed (git SHA or --version).
	Version string `json:"version"`
	// Image is the image reference, e.g. "app/web:abc123".
	Image string `json:"image"`
	// ImageID is the expected image ID ("sha256:..."); the sidecar refuses to
	// start a container from an image whose ID differs.
	ImageID string `json:"imageID,omitempty"`
	// Cmd overrides the image's command when non-empty.
	Cmd []string `json:"cmd,omitempty"`
	// Env holds clear environment variables.
	Env map[string]string `json:"env,omitempty"`
	// SecretEnv holds resolved secret variables. Never logged, journaled or
	// audited; only passed to the container.
	SecretEnv map[string]string `json:"secretEnv,omitempty"`
	// Labels are extra container labels (role and config labels).
	Labels map[string]string `json:"labels,omitempty"`
	// Options are docker run options for the container.
	Options ContainerOptions `json:"options,omitempty"`
	// Network is the Docker network to attach to; defaults to DefaultNetwork.
	Network string `json:"network,omitempty"`
	// Healthcheck says how the sidecar decides the new container is ready.
	Healthcheck Healthcheck `json:"healthcheck"`
	// Proxy routes the role through Traefik; nil for roles without a proxy.
	Proxy *Proxy `json:"proxy,omitempty"`
	// DeployTimeout bounds the wait for the new container to become healthy.
	DeployTimeout Duration `json:"deployTimeout,omitempty"`
	// DrainTimeout bounds the wait for in-flight requests on the old container.
	DrainTimeout Duration `json:"drainTimeout,omitempty"`
	// StopTimeout is passed to `docker stop` for the old container.
	StopTimeout Duration `json:"stopTimeout,omitempty"`
	// LogLines is how many of a failed new container's last log lines the
	// deploy error carries (Kamal 1 healthcheck.log_lines); 0: the
	// sidecar's default.
	LogLines int `json:"logLines,omitempty"`
	// RetainContainers is how many stopped containers of this service and
	// destination are kept for rollback.
	RetainContainers int `json:"retainContainers,omitempty"`
	// KeepWarm is how long the container a swap replaces keeps running out
	// of rotation (drained, no route) before the sidecar stops it, so a
	// rollback inside that window is a route switch. Zero stops it at once.
	// Honoured for roles with a proxy only; a warm container counts as one
	// of the RetainContainers.
	KeepWarm Duration `json:"keepWarm,omitempty"`
	// Assets, when set, bridges the role's static assets across versions:
	// the sidecar extracts them from the image, merges in the version being
	// replaced, and bind-mounts the result at Assets.Path.
	Assets *Assets `json:"assets,omitempty"`
}

// ContainerOptions are the docker run options the config may set.
type ContainerOptions struct {
	// Memory limit, docker syntax ("512m", "1g").
	Memory string `json:"memory,omitempty"`
	// CPUs, docker syntax ("1.5").
	CPUs string `json:"cpus,omitempty"`
	// Volumes in docker -v syntax ("/host:/container[:ro]" or "name:/path").
	Volumes []string `json:"volumes,omitempty"`
	// Restart policy; defaults to "unless-stopped".
	Restart string `json:"restart,omitempty"`
	// LogDriver and LogOpts mirror docker's --log-driver/--log-opt.
	LogDriver string            `json:"logDriver,omitempty"`
	LogOpts   map[string]string `json:"logOpts,omitempty"`
	// Extra holds other `options:` keys from deploy.yml as docker run flags
	// (key without dashes -> values). Only a vetted set is honoured.
	Extra map[string][]string `json:"extra,omitempty"`
}

// Health check kinds.
const (
	HealthHTTP    = "http"    // GET Path on the container address, 2xx is healthy
	HealthTCP     = "tcp"     // TCP connect to Port
	HealthDocker  = "docker"  // the image's HEALTHCHECK status
	HealthRunning = "running" // still running after ReadinessDelay
)

// Healthcheck describes the readiness probe of a new container.
type Healthcheck struct {
	// Kind is one of HealthHTTP, HealthTCP, HealthDocker, HealthRunning.
	Kind string `json:"kind"`
	// Path for HTTP probes, default "/up".
	Path string `json:"path,omitempty"`
	// Port for HTTP/TCP probes; defaults to the proxy app port.
	Port int `json:"port,omitempty"`
	// HostHeader is sent as Host on HTTP probes when set.
	HostHeader string `json:"hostHeader,omitempty"`
	// Interval between probes; sub-second by default.
	Interval Duration `json:"interval,omitempty"`
	// Timeout of a single probe.
	Timeout Duration `json:"timeout,omitempty"`
	// ReadinessDelay for HealthRunning: how long the container must stay up.
	ReadinessDelay Duration `json:"readinessDelay,omitempty"`
}

// Proxy is how Traefik routes to the role.
type Proxy struct {
	// Hosts are the request hosts routed to the role (Kamal 2 proxy.host/hosts).
	Hosts []string `json:"hosts,omitempty"`
	// PathPrefix restricts routing to a path prefix.
	PathPrefix string `json:"pathPrefix,omitempty"`
	// PathPrefixes restrict routing to any of these prefixes (Kamal's
	// path_prefix list); PathPrefix alone is an older plugin's one prefix.
	PathPrefixes []string `json:"pathPrefixes,omitempty"`
	// StripPathPrefix removes the matched prefix before forwarding.
	StripPathPrefix bool `json:"stripPathPrefix,omitempty"`
	// Buffering buffers bodies in the proxy; nil streams them.
	Buffering *Buffering `json:"buffering,omitempty"`
	// Rule is an explicit Traefik rule; overrides Hosts/PathPrefix.
	Rule string `json:"rule,omitempty"`
	// AppPort is the port the app listens on inside the container.
	AppPort int `json:"appPort,omitempty"`
	// TLS terminates TLS with CertResolver (ACME) when set.
	TLS bool `json:"tls,omitempty"`
	// CertResolver names the Traefik ACME resolver.
	CertResolver string `json:"certResolver,omitempty"`
	// SSLRedirect adds an http->https redirect router.
	SSLRedirect bool `json:"sslRedirect,omitempty"`
	// EntryPoints default to "web" (and "websecure" with TLS).
	EntryPoints []string `json:"entryPoints,omitempty"`
	// ResponseTimeout bounds a proxied request.
	ResponseTimeout Duration `json:"responseTimeout,omitempty"`
	// ForwardHeaders trusts X-Forwarded-* from clients.
	ForwardHeaders bool `json:"forwardHeaders,omitempty"`
	// TraefikLabels are Kamal 1 `traefik.*` labels, decoded with Traefik's own
	// label decoder; when present they define routers and middlewares.
	TraefikLabels map[string]string `json:"traefikLabels,omitempty"`
	// Routing is what the fields above mean to Traefik, built by the plugin
	// with Traefik's own types (pkg/traefik/routes). The sidecar only adds
	// the servers, so it links none of Traefik's code.
	Routing *Routing `json:"routing,omitempty"`
	// ErrorPages are the app's pages (status → HTML) the proxy serves for
	// ErrorPageStatuses (Kamal's error_pages_path). Never in labels.
	ErrorPages map[string]string `json:"errorPages,omitempty"`
}

// Routing is a role's Traefik dynamic configuration without its servers.
type Routing struct {
	// Config is a Traefik dynamic configuration as JSON: routers,
	// middlewares, transports and Service with an empty loadBalancer.
	Config json.RawMessage `json:"config"`
	// Service names the service in Config whose servers the sidecar sets.
	Service string `json:"service"`
	// Scheme of server URLs ("http" when empty).
	Scheme string `json:"scheme,omitempty"`
	// Port, when set, replaces the container address's port in server URLs
	// (Kamal 1 loadbalancer.server.port labels).
	Port string `json:"port,omitempty"`
}

// LoadBalancer returns the JSON object of the service's load balancer inside
// Config, decoded with numbers kept as written, and the whole configuration
// it belongs to, so a caller can set servers and encode it again.
func (r *Routing) LoadBalancer() (conf, lb map[string]any, err error) {
	dec := json.NewDecoder(bytes.NewReader(r.Config))
	dec.UseNumber()
	if err := dec.Decode(&conf); err != nil {
		return nil, nil, &FieldError{"proxy.routing.config", "not a JSON object: " + err.Error()}
	}
	if dec.More() {
		return nil, nil, &FieldError{"proxy.routing.config", "trailing data after the JSON object"}
	}
	http, _ := conf["http"].(map[string]any)
	services, _ := http["services"].(map[string]any)
	svc, _ := services[r.Service].(map[string]any)
	lb, _ = svc["loadBalancer"].(map[string]any)
	if lb == nil {
		return nil, nil, &FieldError{"proxy.routing.config", fmt.Sprintf("http.services.%s.loadBalancer missing", r.Service)}
	}
	return conf, lb, nil
}

// Duration is a time.Duration that travels as a Go duration string ("30s").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MaxWireSize bounds a wire document; anything larger is refused unread.
const MaxWireSize = 1 << 20

// DecodeDeploy reads one wire document strictly: unknown fields, trailing
// data, an unknown apiVersion or an invalid field are errors.
func DecodeDeploy(r io.Reader) (*Deploy, error) {
	var d Deploy
	if err := decodeStrict(r, &d); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// decodeStrict decodes exactly one JSON value with unknown fields rejected.
func decodeStrict(r io.Reader, v any) error {
	lr := io.LimitReader(r, MaxWireSize+1)
	data, err := io.ReadAll(lr)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	if len(data) > MaxWireSize {
		return fmt.Errorf("spec larger than %d bytes", MaxWireSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode spec: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("decode spec: trailing data after the document")
	}
	return nil
}

// Encode writes the document as JSON.
func (d *Deploy) Encode(w io.Writer) error {
	return json.NewEncoder(w).Encode(d)
}

// FieldError names the wire field that is wrong.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Validate checks every field a sidecar relies on.
func (d *Deploy) Validate() error {
	if d.APIVersion != APIVersion {
		return &FieldError{"apiVersion", fmt.Sprintf("unsupported %q (this sidecar accepts %q)", d.APIVersion, APIVersion)}
	}
	if !nameRE.MatchString(d.Service) {
		return &FieldError{"service", fmt.Sprintf("%q must match %s", d.Service, nameRE)}
	}
	if d.Destination != "" && !nameRE.MatchString(d.Destination) {
		return &FieldError{"destination", fmt.Sprintf("%q must match %s", d.Destination, nameRE)}
	}
	if !nameRE.MatchString(d.Role) {
		return &FieldError{"role", fmt.Sprintf("%q must match %s", d.Role, nameRE)}
	}
	if !versionRE.MatchString(d.Version) {
		return &FieldError{"version", fmt.Sprintf("%q must match %s", d.Version, versionRE)}
	}
	if strings.TrimSpace(d.Image) == "" || strings.ContainsAny(d.Image, " \t\n") {
		return &FieldError{"image", fmt.Sprintf("%q is not an image reference", d.Image)}
	}
	if d.ImageID != "" && !strings.HasPrefix(d.ImageID, "sha256:") {
		return &FieldError{"imageID", fmt.Sprintf("%q must start with sha256:", d.ImageID)}
	}
	if d.Network != "" && !nameRE.MatchString(d.Network) {
		return &FieldError{"network", fmt.Sprintf("%q must match %s", d.Network, nameRE)}
	}
	for k := range d.Env {
		if !ValidEnvName(k) {
			return &FieldError{"env." + k, "not a valid environment variable name"}
		}
	}
	for k := range d.SecretEnv {
		if !ValidEnvName(k) {
			return &FieldError{"secretEnv." + k, "not a valid environment variable name"}
		}
		if _, dup := d.Env[k]; dup {
			return &FieldError{"secretEnv." + k, "also set in env"}
		}
	}
	switch d.Healthcheck.Kind {
	case HealthHTTP, HealthTCP, HealthDocker, HealthRunning:
	default:
		return &FieldError{"healthcheck.kind", fmt.Sprintf("%q must be one of http, tcp, docker, running", d.Healthcheck.Kind)}
	}
	if d.Healthcheck.Kind == HealthHTTP && d.Healthcheck.Path != "" && !strings.HasPrefix(d.Healthcheck.Path, "/") {
		return &FieldError{"healthcheck.path", "must start with /"}
	}
	if p := d.Healthcheck.Port; p < 0 || p > 65535 {
		return &FieldError{"healthcheck.port", "out of range"}
	}
	if d.Proxy != nil {
		if err := d.Proxy.validate(); err != nil {
			return err
		}
	}
	if d.RetainContainers < 0 {
		return &FieldError{"retainContainers", "must not be negative"}
	}
	if d.KeepWarm < 0 {
		return &FieldError{"keepWarm", "must not be negative"}
	}
	if d.Assets != nil {
		return d.Assets.validate()
	}
	return nil
}

// ErrNoRouting: a spec whose role has a proxy arrived without the routing
// the plugin builds (an older plugin sent it).
var ErrNoRouting = &FieldError{"proxy.routing", "missing: docker kamal builds it from the proxy settings (is the plugin older than this sidecar?)"}

func (r *Routing) validate() error {
	if !nameRE.MatchString(r.Service) {
		return &FieldError{"proxy.routing.service", fmt.Sprintf("%q must match %s", r.Service, nameRE)}
	}
	switch r.Scheme {
	case "", "http", "https", "h2c":
	default:
		return &FieldError{"proxy.routing.scheme", fmt.Sprintf("%q must be http, https or h2c", r.Scheme)}
	}
	if r.Port != "" {
		if p, err := strconv.Atoi(r.Port); err != nil || p < 1 || p > 65535 {
			return &FieldError{"proxy.routing.port", fmt.Sprintf("%q is not a port", r.Port)}
		}
	}
	if len(r.Config) > maxRoutingConfig {
		return &FieldError{"proxy.routing.config", fmt.Sprintf("%d bytes, more than %d", len(r.Config), maxRoutingConfig)}
	}
	_, _, err := r.LoadBalancer()
	return err
}

// maxRoutingConfig bounds the routing JSON; it travels in a container label.
const maxRoutingConfig = 64 << 10

// ApplyDefaults fills unset tunables with their defaults.
func (d *Deploy) ApplyDefaults() {
	if d.Network == "" {
		d.Network = DefaultNetwork
	}
	if d.DeployTimeout == 0 {
		d.DeployTimeout = Duration(DefaultDeployTimeout)
	}
	if d.DrainTimeout == 0 {
		d.DrainTimeout = Duration(DefaultDrainTimeout)
	}
	if d.StopTimeout == 0 {
		d.StopTimeout = Duration(DefaultStopTimeout)
	}
	if d.RetainContainers == 0 {
		d.RetainContainers = DefaultRetainContainers
	}
	if d.Options.Restart == "" {
		d.Options.Restart = "unless-stopped"
	}
	if d.Proxy != nil && d.Proxy.AppPort == 0 {
		d.Proxy.AppPort = DefaultAppPort
	}
	h := &d.Healthcheck
	if h.Kind == HealthHTTP && h.Path == "" {
		h.Path = DefaultHealthPath
	}
	if (h.Kind == HealthHTTP || h.Kind == HealthTCP) && h.Port == 0 && d.Proxy != nil {
		h.Port = d.Proxy.AppPort
	}
	if h.Interval == 0 {
		h.Interval = Duration(DefaultHealthInterval)
	}
	if h.Timeout == 0 {
		h.Timeout = Duration(DefaultHealthTimeout)
	}
	if h.Kind == HealthRunning && h.ReadinessDelay == 0 {
		h.ReadinessDelay = Duration(DefaultReadinessDelay)
	}
}

// Redacted returns a copy safe to log, journal or audit: secret values are
// replaced, names kept.
func (d *Deploy) Redacted() *Deploy {
	c := *d
	if len(d.SecretEnv) > 0 {
		c.SecretEnv = make(map[string]string, len(d.SecretEnv))
		for k := range d.SecretEnv {
			c.SecretEnv[k] = Redacted
		}
	}
	c.Proxy = d.Proxy.withoutPages() // the sidecar keeps them on disk; labels stay small
	return &c
}

// Redacted is what a secret value is replaced with in any output.
const Redacted = "[REDACTED]"

// ValidEnvName reports whether s can be an environment variable name.
func ValidEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Container labels every app container carries.
const (
	LabelService     = "kamal.service"
	LabelRole        = "kamal.role"
	LabelDestination = "kamal.destination"
	LabelVersion     = "kamal.version"
)

// MarshalYAML prints durations as Go duration strings ("30s") in the
// plugin's `config` output; YAML encoders find the method by its name, so
// this package needs no YAML import.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

package spec

// Building the wire spec (contract.Deploy) for one role on one host.

import (
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Kamal's default container labels (Kamal 2 names, unprefixed).
const (
	KamalLabelService     = "service"
	KamalLabelRole        = "role"
	KamalLabelDestination = "destination"
)

// Deploy builds the wire spec for role on host. image is the full image
// reference to run (e.g. "registry/app:version"), imageID its expected ID
// ("sha256:..." or empty).
func (c *Config) Deploy(role, host, version, image, imageID string) (*contract.Deploy, error) {
	r := c.Role(role)
	if r == nil {
		return nil, fmt.Errorf("build deploy spec: role %s isn't defined (roles: %s)", role, strings.Join(c.RoleNames(), ", "))
	}
	onHost := false
	for _, h := range r.Hosts {
		if h == host {
			onHost = true
			break
		}
	}
	if !onHost {
		return nil, fmt.Errorf("build deploy spec: host %s is not in role %s", host, role)
	}
	d := &contract.Deploy{
		APIVersion:       contract.APIVersion,
		Service:          c.Service,
		Destination:      c.Destination,
		Role:             r.Name,
		Host:             host,
		Version:          version,
		Image:            image,
		ImageID:          imageID,
		Network:          contract.DefaultNetwork,
		DeployTimeout:    c.DeployTimeout,
		DrainTimeout:     c.DrainTimeout,
		RetainContainers: c.RetainContainers,
	}
	if r.Cmd != "" {
		d.Cmd = cmdArgs(r.Cmd)
	}
	// Env: clear values, secrets resolved; a clear value wins over a
	// secret of the same name (docker applies --env after --env-file).
	env := c.HostEnv(r, host)
	if len(env.Clear) > 0 {
		d.Env = map[string]string{}
		for k, v := range env.Clear {
			d.Env[k] = v
		}
	}
	for _, s := range env.Secret {
		if _, clear := env.Clear[s.Name]; clear {
			continue
		}
		v, ok := c.secrets[s.From]
		if !ok {
			return nil, fmt.Errorf("build deploy spec: secret %s for %s is not resolved", s.From, s.Name)
		}
		if d.SecretEnv == nil {
			d.SecretEnv = map[string]string{}
		}
		d.SecretEnv[s.Name] = v
	}
	// Labels: Kamal's defaults, then config labels (traefik.* go to Proxy).
	d.Labels = map[string]string{KamalLabelService: c.Service, KamalLabelRole: r.Name}
	if c.Destination != "" {
		d.Labels[KamalLabelDestination] = c.Destination
	}
	for k, v := range r.Labels {
		if !strings.HasPrefix(k, "traefik.") {
			d.Labels[k] = v
		}
	}
	c.containerOptions(r, d)
	if err := c.healthcheck(r, d); err != nil {
		return nil, err
	}
	c.proxyOf(r, d)
	d.StopTimeout = c.stopTimeout(r)
	d.ApplyDefaults()
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("build deploy spec for %s on %s: %w", role, host, err)
	}
	return d, nil
}

// proxyOf sets the routing of a role with a proxy on d: the proxy, the
// error pages and the warm window of the container it replaces.
func (c *Config) proxyOf(r *Role, d *contract.Deploy) {
	if r.Proxy == nil {
		return
	}
	d.Proxy = wireProxy(r.Proxy)
	d.Proxy.ErrorPages = c.errorPages
	d.KeepWarm = c.Sidecar.KeepWarm
}

// stopTimeout is Kamal's: the role's or root stop_timeout, else the drain
// timeout for roles without proxy and Docker's 10s for proxied roles.
func (c *Config) stopTimeout(r *Role) contract.Duration {
	switch {
	case r.StopTimeout != nil:
		return *r.StopTimeout
	case r.Proxy == nil:
		return c.DrainTimeout
	}
	return contract.Duration(10e9)
}

// containerOptions maps the role's `options:` onto d.Options. memory, cpus,
// volume(s), restart, log-driver and log-opt have fields of their own; the
// others (contract.ExtraOptions, checked at load by roleOptions) travel in
// Options.Extra and the sidecar applies them as docker run would.
func (c *Config) containerOptions(r *Role, d *contract.Deploy) {
	o := &d.Options
	o.Volumes = append(o.Volumes, c.Volumes...)
	for k, vals := range r.Options {
		last := ""
		if len(vals) > 0 {
			last = vals[len(vals)-1]
		}
		switch k {
		case "memory":
			o.Memory = last
		case "cpus":
			o.CPUs = last
		case "volume", "volumes":
			o.Volumes = append(o.Volumes, vals...)
		case "restart":
			o.Restart = last
		case "log-driver":
			o.LogDriver = last
		case "log-opt":
			for _, v := range vals {
				if k, v, ok := strings.Cut(v, "="); ok {
					if o.LogOpts == nil {
						o.LogOpts = map[string]string{}
					}
					o.LogOpts[k] = v
				}
			}
		default:
			if o.Extra == nil {
				o.Extra = map[string][]string{}
			}
			o.Extra[k] = append([]string(nil), vals...)
		}
	}
	if r.Logging.Driver != "" {
		o.LogDriver = r.Logging.Driver
	}
	for k, v := range r.Logging.Options {
		if o.LogOpts == nil {
			o.LogOpts = map[string]string{}
		}
		o.LogOpts[k] = v
	}
	if r.AssetPath != "" && r.Proxy != nil {
		// The sidecar extracts each version's assets and mounts them
		// merged with the previous version's (Kamal's asset bridging).
		p, opts, _ := strings.Cut(r.AssetPath, ":")
		d.Assets = &contract.Assets{Path: p, Options: opts}
	}
}

// healthcheck picks the readiness probe: HTTP for proxied roles (Kamal 2
// proxy.healthcheck or Kamal 1 healthcheck), docker HEALTHCHECK when the
// role sets health-cmd (or a Kamal 1 healthcheck.cmd), else "still running
// after readiness_delay".
func (c *Config) healthcheck(r *Role, d *contract.Deploy) error {
	h := &d.Healthcheck
	_, healthCmd := r.Options["health-cmd"]
	if r.Healthcheck != nil {
		d.LogLines = r.Healthcheck.LogLines
	}
	switch {
	case r.Proxy != nil && r.Healthcheck != nil && r.Healthcheck.Cmd != "":
		h.Kind = contract.HealthDocker
		setExtra(&d.Options, "health-cmd", r.Healthcheck.Cmd)
		setExtra(&d.Options, "health-interval", r.Healthcheck.Interval.D().String())
	case r.Proxy != nil && r.Healthcheck != nil: // Kamal 1
		h.Kind = contract.HealthHTTP
		h.Path = r.Healthcheck.Path
		h.Port = r.Healthcheck.Port
		h.Interval = r.Healthcheck.Interval
		if n := r.Healthcheck.MaxAttempts; n > 0 && r.Healthcheck.Interval > 0 {
			// Kamal 1 backs off from interval over max_attempts; bound
			// the wait by the same budget when it is longer.
			budget := contract.Duration(int64(r.Healthcheck.Interval) * int64(n*(n+1)/2))
			if budget > d.DeployTimeout {
				d.DeployTimeout = budget
			}
		}
	case r.Proxy != nil:
		h.Kind = contract.HealthHTTP
		h.Path = r.Proxy.Healthcheck.Path
		h.Port = r.Proxy.AppPort
		h.Interval = r.Proxy.Healthcheck.Interval
		h.Timeout = r.Proxy.Healthcheck.Timeout
		if len(r.Proxy.Hosts) > 0 {
			h.HostHeader = r.Proxy.Hosts[0]
		}
	case healthCmd:
		h.Kind = contract.HealthDocker
	case r.Healthcheck != nil && r.Healthcheck.Cmd != "":
		h.Kind = contract.HealthDocker
		setExtra(&d.Options, "health-cmd", r.Healthcheck.Cmd)
	default:
		h.Kind = contract.HealthRunning
		h.ReadinessDelay = c.ReadinessDelay
		if h.ReadinessDelay == 0 {
			// readiness_delay: 0 means "running is enough"; the wire
			// default would turn 0 into 7s, so keep it minimal instead.
			h.ReadinessDelay = 1
		}
	}
	return nil
}

func setExtra(o *contract.ContainerOptions, k, v string) {
	if o.Extra == nil {
		o.Extra = map[string][]string{}
	}
	o.Extra[k] = []string{v}
}

// wireProxy maps the config proxy onto the wire proxy.
func wireProxy(p *ProxyConfig) *contract.Proxy {
	w := &contract.Proxy{
		Hosts:           append([]string(nil), p.Hosts...),
		AppPort:         p.AppPort,
		TLS:             p.SSL,
		ResponseTimeout: p.ResponseTimeout,
	}
	applyAppKeys(p, w)
	if p.SSL {
		// A custom certificate is served by SNI from the host's Traefik
		// (Config.Certificates); naming the ACME resolver too would have
		// Traefik request a certificate it must not.
		if p.SSLCertificatePEM == "" {
			w.CertResolver = DefaultCertResolver
		}
		w.SSLRedirect = p.SSLRedirect == nil || *p.SSLRedirect
		w.EntryPoints = []string{"web", "websecure"}
	}
	// kamal-proxy forwards headers unless ssl is on, unless told otherwise.
	w.ForwardHeaders = !p.SSL
	if p.ForwardHeaders != nil {
		w.ForwardHeaders = *p.ForwardHeaders
	}
	if len(p.TraefikLabels) > 0 {
		w.TraefikLabels = map[string]string{}
		for k, v := range p.TraefikLabels {
			w.TraefikLabels[k] = v
		}
	}
	return w
}

// HasAssets is whether any role bridges assets (asset_path behind the
// proxy), so a deploy prepares them on every host before the first swap.
func (c *Config) HasAssets() bool {
	for _, r := range c.Roles {
		if r.AssetPath != "" && r.Proxy != nil {
			return true
		}
	}
	return false
}

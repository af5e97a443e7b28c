package contract

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Role names one (service, destination, role) on a host.
type Role struct {
	// Service is the Kamal service name.
	Service string `json:"service"`
	// Destination is the `-d` destination, empty for none.
	Destination string `json:"destination,omitempty"`
	// Role is the server role, e.g. "web".
	Role string `json:"role"`
}

// Validate names the first bad field.
func (r Role) Validate() error {
	if !nameRE.MatchString(r.Service) {
		return &FieldError{Field: "service", Reason: fmt.Sprintf("%q must match %s", r.Service, nameRE)}
	}
	if r.Destination != "" && !nameRE.MatchString(r.Destination) {
		return &FieldError{Field: "destination", Reason: fmt.Sprintf("%q must match %s", r.Destination, nameRE)}
	}
	if !nameRE.MatchString(r.Role) {
		return &FieldError{Field: "role", Reason: fmt.Sprintf("%q must match %s", r.Role, nameRE)}
	}
	return nil
}

// String is service/role[@destination], for messages.
func (r Role) String() string {
	s := r.Service + "/" + r.Role
	if r.Destination != "" {
		s += "@" + r.Destination
	}
	return s
}

// RollbackRequest asks the sidecar to switch a role back to a retained
// version (no image transfer).
type RollbackRequest struct {
	Role
	// Version is the retained version to switch to.
	Version string `json:"version"`
	// Who is recorded in the audit log.
	Who string `json:"who,omitempty"`
}

// Validate names the first bad field.
func (r *RollbackRequest) Validate() error {
	if err := r.Role.Validate(); err != nil {
		return err
	}
	if !versionRE.MatchString(r.Version) {
		return &FieldError{Field: "version", Reason: fmt.Sprintf("%q must match %s", r.Version, versionRE)}
	}
	return nil
}

// RoleRequest stops or starts a role's live container.
type RoleRequest struct {
	Role
	// Who is recorded in the audit log.
	Who string `json:"who,omitempty"`
}

// Validate names the first bad field.
func (r *RoleRequest) Validate() error { return r.Role.Validate() }

// RoleResponse reports a role after stop/start.
type RoleResponse struct {
	Role
	// Version is the role's live version.
	Version string `json:"version"`
	// Container is the live container's name.
	Container string `json:"container"`
	// Running tells whether it runs now.
	Running bool `json:"running"`
}

// Version is one container of a role kept on the host.
type Version struct {
	// Version is the app version.
	Version string `json:"version"`
	// Container is the container name.
	Container string `json:"container"`
	// State is docker's state ("running", "exited", ...).
	State string `json:"state"`
	// Live is true for the version Traefik routes to.
	Live bool `json:"live"`
	// Created is when the container was created.
	Created time.Time `json:"created"`
	// Image is the image reference or ID.
	Image string `json:"image,omitempty"`
}

// VersionsResponse lists a role's versions, newest first.
type VersionsResponse struct {
	Role
	Versions []Version `json:"versions"`
}

// ImageLoadResponse reports a `docker load` of an intake stream.
type ImageLoadResponse struct {
	// Loaded are the image IDs and references docker reported.
	Loaded []string `json:"loaded"`
	// ExpectID echoes the expected image ID when given.
	ExpectID string `json:"expectID,omitempty"`
	// Verified is true when ExpectID is present on the host after the load.
	Verified bool `json:"verified"`
}

// LockRequest acquires or releases the deploy lock.
type LockRequest struct {
	// Holder identifies who holds the lock ("alice@laptop").
	Holder string `json:"holder"`
	// Message says why (acquire only).
	Message string `json:"message,omitempty"`
	// Version being deployed (acquire only).
	Version string `json:"version,omitempty"`
	// Force breaks a lock held by someone else.
	Force bool `json:"force,omitempty"`
}

// MaxLockText bounds holder and message lengths.
const MaxLockText = 1024

// Validate names the first bad field.
func (r *LockRequest) Validate() error {
	if strings.TrimSpace(r.Holder) == "" {
		return &FieldError{Field: "holder", Reason: "must not be empty"}
	}
	if len(r.Holder) > MaxLockText {
		return &FieldError{Field: "holder", Reason: fmt.Sprintf("longer than %d bytes", MaxLockText)}
	}
	if len(r.Message) > MaxLockText {
		return &FieldError{Field: "message", Reason: fmt.Sprintf("longer than %d bytes", MaxLockText)}
	}
	if r.Version != "" && !versionRE.MatchString(r.Version) {
		return &FieldError{Field: "version", Reason: fmt.Sprintf("%q must match %s", r.Version, versionRE)}
	}
	return nil
}

// LockStatus is the deploy lock's state.
type LockStatus struct {
	// Locked is true while someone holds the lock.
	Locked bool `json:"locked"`
	// Holder, Message and Version are as given on acquire.
	Holder  string `json:"holder,omitempty"`
	Message string `json:"message,omitempty"`
	Version string `json:"version,omitempty"`
	// AcquiredAt is when it was taken.
	AcquiredAt time.Time `json:"acquiredAt,omitzero"`
	// Stale is true when it has been held longer than the sidecar's stale
	// threshold: probably left by a crashed deploy; break it with Force.
	Stale bool `json:"stale,omitempty"`
}

// AuditEntry is one line of the host's audit log. It never holds secret
// values.
type AuditEntry struct {
	// Time is when it happened; the sidecar sets it when zero.
	Time time.Time `json:"time,omitzero"`
	// Who did it ("alice@laptop").
	Who string `json:"who"`
	// Action is "deploy", "rollback", "lock", "unlock", ...
	Action string `json:"action"`
	// What it acted on (service/role@destination version).
	What string `json:"what,omitempty"`
	// Result is "ok" or the error.
	Result string `json:"result,omitempty"`
	// Host is the host as named in deploy.yml.
	Host string `json:"host,omitempty"`
	// Details holds extra key/values (never secret values).
	Details map[string]string `json:"details,omitempty"`
}

// MaxAuditText bounds each audit text field.
const MaxAuditText = 4096

// Validate names the first bad field.
func (e *AuditEntry) Validate() error {
	if strings.TrimSpace(e.Who) == "" {
		return &FieldError{Field: "who", Reason: "must not be empty"}
	}
	if strings.TrimSpace(e.Action) == "" {
		return &FieldError{Field: "action", Reason: "must not be empty"}
	}
	for name, v := range map[string]string{"who": e.Who, "action": e.Action, "what": e.What, "result": e.Result, "host": e.Host} {
		if len(v) > MaxAuditText {
			return &FieldError{Field: name, Reason: fmt.Sprintf("longer than %d bytes", MaxAuditText)}
		}
	}
	for k, v := range e.Details {
		if len(k)+len(v) > MaxAuditText {
			return &FieldError{Field: "details." + k, Reason: fmt.Sprintf("longer than %d bytes", MaxAuditText)}
		}
	}
	return nil
}

// AuditLog is the tail of the audit log, oldest first.
type AuditLog struct {
	Entries []AuditEntry `json:"entries"`
}

// ACME configures Traefik's ACME certificate resolver.
type ACME struct {
	// Resolver is the resolver name routers refer to ("letsencrypt").
	Resolver string `json:"resolver"`
	// Email is the ACME account email.
	Email string `json:"email"`
	// CAServer overrides the ACME directory URL (staging, tests).
	CAServer string `json:"caServer,omitempty"`
	// Challenge is "http" (default) or "tls".
	Challenge string `json:"challenge,omitempty"`
	// CACertificates is a PEM bundle of CA certificates that Traefik trusts
	// for the CA server's own HTTPS (a private ACME server such as Pebble
	// or step-ca); empty trusts the system roots. Public data, no keys.
	CACertificates string `json:"caCertificates,omitempty"`
}

// MaxACMECACertificates bounds ACME.CACertificates.
const MaxACMECACertificates = 256 << 10

// TraefikRequest boots (or reboots) the host's Traefik container.
type TraefikRequest struct {
	// Image is the Traefik image reference.
	Image string `json:"image"`
	// HTTPPort and HTTPSPort are the host ports published for the "web" and
	// "websecure" entrypoints (defaults 80 and 443; -1 leaves one out).
	HTTPPort  int `json:"httpPort,omitempty"`
	HTTPSPort int `json:"httpsPort,omitempty"`
	// ACME enables a certificate resolver.
	ACME *ACME `json:"acme,omitempty"`
	// Certificates are custom certificates Traefik serves by SNI (roles
	// with proxy.ssl certificate_pem/private_key_pem on this host); the
	// set replaces the previous one.
	Certificates []Certificate `json:"certificates,omitempty"`
	// Routes are the static routes of RoutesService's accessories on this
	// host; the set replaces that service's previous one.
	Routes        []StaticRoute `json:"routes,omitempty"`
	RoutesService string        `json:"routesService,omitempty"`
	// Host holds the Kamal 2 proxy keys Traefik applies per host.
	Host *HostProxy `json:"host,omitempty"`
	// Args are extra Traefik static-config flags (Kamal 1 traefik.args),
	// name without dashes → value.
	Args map[string]string `json:"args,omitempty"`
	// Options are extra docker run options (Kamal 1 traefik.options),
	// name without dashes → values.
	Options map[string][]string `json:"options,omitempty"`
	// Labels and Env are set on the Traefik container.
	Labels map[string]string `json:"labels,omitempty"`
	Env    map[string]string `json:"env,omitempty"`
	// Who is recorded in the audit log.
	Who string `json:"who,omitempty"`
}

// Validate names the first bad field.
func (r *TraefikRequest) Validate() error {
	if strings.TrimSpace(r.Image) == "" || strings.ContainsAny(r.Image, " \t\n") {
		return &FieldError{Field: "image", Reason: fmt.Sprintf("%q is not an image reference", r.Image)}
	}
	for name, p := range map[string]int{"httpPort": r.HTTPPort, "httpsPort": r.HTTPSPort} {
		if p < -1 || p > 65535 {
			return &FieldError{Field: name, Reason: "out of range"}
		}
	}
	if r.ACME != nil {
		if !nameRE.MatchString(r.ACME.Resolver) {
			return &FieldError{Field: "acme.resolver", Reason: fmt.Sprintf("%q must match %s", r.ACME.Resolver, nameRE)}
		}
		if !strings.Contains(r.ACME.Email, "@") {
			return &FieldError{Field: "acme.email", Reason: "must be an email address"}
		}
		switch r.ACME.Challenge {
		case "", "http", "tls":
		default:
			return &FieldError{Field: "acme.challenge", Reason: fmt.Sprintf("%q must be http or tls", r.ACME.Challenge)}
		}
		if err := r.ACME.validateCA(); err != nil {
			return err
		}
	}
	if err := validateCertificates(r.Certificates); err != nil {
		return err
	}
	if err := validateStaticRoutes(r.RoutesService, r.Routes); err != nil {
		return err
	}
	if err := r.Host.validate(); err != nil {
		return err
	}
	for k := range r.Args {
		if k == "" || strings.HasPrefix(k, "-") || strings.ContainsAny(k, " =\t\n") {
			return &FieldError{Field: "args." + k, Reason: "must be a flag name without dashes"}
		}
	}
	for k := range r.Options {
		if k == "" || strings.HasPrefix(k, "-") || strings.ContainsAny(k, " =\t\n") {
			return &FieldError{Field: "options." + k, Reason: "must be an option name without dashes"}
		}
	}
	for k := range r.Env {
		if k == "" || strings.ContainsAny(k, "= \t\n") {
			return &FieldError{Field: "env." + k, Reason: "not a valid environment variable name"}
		}
	}
	return nil
}

// TraefikStatus reports the Traefik container.
type TraefikStatus struct {
	// Container is its name.
	Container string `json:"container"`
	// Image is its image reference.
	Image string `json:"image"`
	// Running tells whether it runs.
	Running bool `json:"running"`
	// Args are the Traefik flags it was started with.
	Args []string `json:"args,omitempty"`
}

// Health values in RoleStatus.
const (
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
	HealthStopped   = "stopped"
	HealthMissing   = "missing"
	HealthUnknown   = "unknown"
)

// RoleStatus is what /v1/status says about one role.
type RoleStatus struct {
	Role
	// LiveVersion is the version Traefik routes to (or that last succeeded).
	LiveVersion string `json:"liveVersion,omitempty"`
	// Container is the live container's name.
	Container string `json:"container,omitempty"`
	// Health is one of the Health* values.
	Health string `json:"health"`
	// LastResult is "ok", "failed" or "" before the first deploy.
	LastResult string `json:"lastResult,omitempty"`
	// LastAction is "deploy", "rollback", "start", "stop" or "reconcile".
	LastAction string `json:"lastAction,omitempty"`
	// LastVersion is the version the last action targeted.
	LastVersion string `json:"lastVersion,omitempty"`
	// LastError is the last failure's message.
	LastError string `json:"lastError,omitempty"`
	// LastDeployAt is when the last action finished.
	LastDeployAt time.Time `json:"lastDeployAt,omitzero"`
	// InProgress names the step of a swap under way, empty when idle.
	InProgress string `json:"inProgress,omitempty"`
}

// Status is the whole host's state as /v1/status reports it.
type Status struct {
	// Sidecar is the sidecar's build version.
	Sidecar string `json:"sidecar"`
	// Time is when the status was taken.
	Time time.Time `json:"time"`
	// Ready is false until the sidecar has reconciled the host after its
	// start (an interrupted swap shows as InProgress until then).
	Ready bool `json:"ready"`
	// Roles are sorted by service, destination, role.
	Roles []RoleStatus `json:"roles"`
	// Lock is the deploy lock.
	Lock LockStatus `json:"lock"`
}

// validateCA checks the CA server URL and the CA bundle's shape (the
// sidecar only stores the bundle; Traefik parses it).
func (a *ACME) validateCA() error {
	if a.CAServer != "" {
		u, err := url.Parse(a.CAServer)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return &FieldError{Field: "acme.caServer", Reason: fmt.Sprintf("%q must be an https:// URL", a.CAServer)}
		}
	}
	if c := a.CACertificates; c != "" {
		if len(c) > MaxACMECACertificates {
			return &FieldError{Field: "acme.caCertificates", Reason: fmt.Sprintf("longer than %d bytes", MaxACMECACertificates)}
		}
		if !strings.Contains(c, "-----BEGIN CERTIFICATE-----") || strings.Contains(c, "PRIVATE KEY") {
			return &FieldError{Field: "acme.caCertificates", Reason: "must be PEM certificates (and no key)"}
		}
	}
	return nil
}

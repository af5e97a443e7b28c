package contract

// Kamal 2 proxy keys that kamal-proxy applies per app and Traefik per
// router (buffering) or per entrypoint, that is per host (forwarded
// headers, access log, ports).

import (
	"fmt"
	"strings"
)

// Buffering is Kamal's proxy.buffering: bodies are read whole before they
// are passed on, up to the limits (0: none) and in memory up to Memory.
type Buffering struct {
	// MaxRequestBody is the largest request body in bytes; a larger one
	// gets 413.
	MaxRequestBody int64 `json:"maxRequestBody,omitempty"`
	// MaxResponseBody is the largest response body in bytes.
	MaxResponseBody int64 `json:"maxResponseBody,omitempty"`
	// Memory is how much of a body is held in memory before the rest
	// goes to disk.
	Memory int64 `json:"memory,omitempty"`
}

// HostProxy is how a host's Traefik is booted for Kamal 2's proxy keys
// that Traefik holds per entrypoint, not per router.
type HostProxy struct {
	// TrustForwardedHeaders keeps X-Forwarded-For and -Proto from clients
	// (forward_headers: true); otherwise Traefik replaces them.
	TrustForwardedHeaders bool `json:"trustForwardedHeaders,omitempty"`
	// AccessLog turns on Traefik's access log (JSON on its stdout).
	AccessLog bool `json:"accessLog,omitempty"`
	// LogHeaders are the request and response headers the access log
	// shows: name → "keep" or "redact".
	LogHeaders map[string]string `json:"logHeaders,omitempty"`
	// BindIPs are the host addresses the ports are published on (all
	// when empty).
	BindIPs []string `json:"bindIPs,omitempty"`
	// MetricsPort, when set, serves Prometheus metrics on that port of
	// the container (not published on the host).
	MetricsPort int `json:"metricsPort,omitempty"`
	// Debug sets Traefik's log level to DEBUG.
	Debug bool `json:"debug,omitempty"`
}

func (h *HostProxy) validate() error {
	if h == nil {
		return nil
	}
	for k, v := range h.LogHeaders {
		if k == "" || strings.ContainsAny(k, " =:\t\n") {
			return &FieldError{Field: "hostProxy.logHeaders." + k, Reason: "not a header name"}
		}
		if v != "keep" && v != "redact" {
			return &FieldError{Field: "hostProxy.logHeaders." + k, Reason: fmt.Sprintf("%q must be keep or redact", v)}
		}
	}
	for _, ip := range h.BindIPs {
		if ip == "" || strings.ContainsAny(ip, " /\t\n") {
			return &FieldError{Field: "hostProxy.bindIPs", Reason: fmt.Sprintf("%q is not an address", ip)}
		}
	}
	if h.MetricsPort < 0 || h.MetricsPort > 65535 {
		return &FieldError{Field: "hostProxy.metricsPort", Reason: "out of range"}
	}
	return nil
}

// validateAppKeys checks the per-app keys Traefik applies per router.
func (p *Proxy) validateAppKeys() error {
	if err := p.validateErrorPages(); err != nil {
		return err
	}
	for _, pp := range p.PathPrefixes {
		if !strings.HasPrefix(pp, "/") {
			return &FieldError{"proxy.pathPrefixes", fmt.Sprintf("%q must start with /", pp)}
		}
	}
	if b := p.Buffering; b != nil && (b.MaxRequestBody < 0 || b.MaxResponseBody < 0 || b.Memory < 0) {
		return &FieldError{"proxy.buffering", "sizes must not be negative"}
	}
	return nil
}

// validate checks the proxy settings of a spec.
func (p *Proxy) validate() error {
	if p.AppPort < 0 || p.AppPort > 65535 {
		return &FieldError{"proxy.appPort", "out of range"}
	}
	if p.PathPrefix != "" && !strings.HasPrefix(p.PathPrefix, "/") {
		return &FieldError{"proxy.pathPrefix", "must start with /"}
	}
	if err := p.validateAppKeys(); err != nil {
		return err
	}
	for k := range p.TraefikLabels {
		if !strings.HasPrefix(k, "traefik.") {
			return &FieldError{"proxy.traefikLabels." + k, "must start with traefik."}
		}
	}
	if p.Routing != nil {
		return p.Routing.validate()
	}
	return nil
}

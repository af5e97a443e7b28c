package sidecar

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/errorpages"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// Maintenance switches proxied roles between live and a 503 page.
type Maintenance interface {
	// Set turns maintenance on or off for the role of d, whose live
	// container is container.
	Set(ctx context.Context, d *contract.Deploy, container string, on bool, message string) error
	// On reports whether the role is in maintenance, and its message.
	On(r contract.Role) (bool, string)
}

// maintenanceRoles is the persisted state: role key → entry.
type maintenanceEntry struct {
	Message string `json:"message"`
	// Hosts are the role's proxy hosts, to pick the message by Host header.
	Hosts []string `json:"hosts,omitempty"`
	// Spec and Servers are what the role routes to when it goes live:
	// updated by every swap made during maintenance. Spec is redacted.
	Spec    *contract.Deploy `json:"spec"`
	Servers []swap.Server    `json:"servers"`
}

// maintenanceRouter wraps the router every swap and reconcile uses. While a
// role is in maintenance, whatever a swap routes is remembered and Traefik
// keeps pointing at the sidecar's 503 responder, so a deploy during
// maintenance does not end it; Set(off) routes the remembered backends.
type maintenanceRouter struct {
	inner     swap.Router
	responder swap.Server
	path      string
	// containers addresses the live container (swap.ServerFor).
	containers inspector

	// pages are the roles' error pages (error_pages_path), stored at
	// every route that carries them and served on the same listener.
	pages errorpages.Store

	mu    sync.Mutex
	roles map[string]*maintenanceEntry
}

func maintenanceKey(service, destination, role string) string {
	return contract.Role{Service: service, Destination: destination, Role: role}.String()
}

func specKey(d *contract.Deploy) string { return maintenanceKey(d.Service, d.Destination, d.Role) }

// inspector is the one engine call maintenance needs.
type inspector interface {
	Inspect(ctx context.Context, name string) (docker.Container, error)
}

// newMaintenanceRouter loads the persisted maintenance state from stateDir.
// responderHost is how Traefik reaches the sidecar on the app network.
func newMaintenanceRouter(inner swap.Router, stateDir, responderHost string, containers inspector) (*maintenanceRouter, error) {
	m := &maintenanceRouter{
		inner:      inner,
		containers: containers,
		responder:  swap.Server{Container: responderHost, Address: net.JoinHostPort(responderHost, strconv.Itoa(contract.MaintenancePort))},
		path:       filepath.Join(stateDir, "maintenance.json"),
		roles:      map[string]*maintenanceEntry{},
		pages:      errorpages.Store{Dir: filepath.Join(stateDir, "error-pages")},
	}
	if err := readJSON(m.path, &m.roles); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load maintenance state: %w", err)
	}
	return m, nil
}

func (m *maintenanceRouter) save() error {
	return writeJSONAtomic(m.path, m.roles)
}

// routed is what Traefik should point at for d when the swap asks for
// servers; it records servers when the role is in maintenance.
func (m *maintenanceRouter) routed(d *contract.Deploy, servers []swap.Server, remember bool) ([]swap.Server, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, on := m.roles[specKey(d)]
	if !on {
		return servers, nil
	}
	if remember {
		e.Spec, e.Servers = d.Redacted(), servers
		if err := m.save(); err != nil {
			return nil, err
		}
	}
	return []swap.Server{m.responder}, nil
}

func (m *maintenanceRouter) Route(ctx context.Context, d *contract.Deploy, servers []swap.Server) error {
	if d.Proxy != nil && len(d.Proxy.ErrorPages) > 0 {
		// Before the route that asks for them; a retained spec (rollback)
		// carries none and keeps the stored ones.
		if err := m.pages.Put(contract.RouteName(d), d.Proxy.ErrorPages); err != nil {
			return err
		}
	}
	to, err := m.routed(d, servers, true)
	if err != nil {
		return err
	}
	return m.inner.Route(ctx, d, to)
}

func (m *maintenanceRouter) Confirm(ctx context.Context, d *contract.Deploy, servers []swap.Server) error {
	to, err := m.routed(d, servers, false)
	if err != nil {
		return err
	}
	return m.inner.Confirm(ctx, d, to)
}

func (m *maintenanceRouter) Drain(ctx context.Context, d *contract.Deploy, old []swap.Server) error {
	return m.inner.Drain(ctx, d, old)
}

func (m *maintenanceRouter) Unroute(ctx context.Context, d *contract.Deploy) error {
	return m.inner.Unroute(ctx, d)
}

// Set implements Maintenance.
func (m *maintenanceRouter) Set(ctx context.Context, d *contract.Deploy, container string, on bool, message string) error {
	if d.Proxy == nil {
		return &contract.Error{Code: contract.CodeBadRequest, Field: "role", Message: fmt.Sprintf("role %s has no proxy, so it has no maintenance page", d.Role)}
	}
	c, err := m.containers.Inspect(ctx, container)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", container, err)
	}
	servers := []swap.Server{swap.ServerFor(d, c)}
	key := specKey(d)
	m.mu.Lock()
	prev, was := m.roles[key]
	if on {
		m.roles[key] = &maintenanceEntry{Message: message, Hosts: d.Proxy.Hosts, Spec: d.Redacted(), Servers: servers}
	} else {
		delete(m.roles, key)
	}
	err = m.save()
	m.mu.Unlock()
	if err != nil {
		return err
	}
	to := servers
	if on {
		to = []swap.Server{m.responder}
	} else if was && len(prev.Servers) > 0 {
		to = prev.Servers
	}
	if err := m.inner.Route(ctx, d, to); err != nil {
		return err
	}
	return m.inner.Confirm(ctx, d, to)
}

// On implements Maintenance.
func (m *maintenanceRouter) On(r contract.Role) (bool, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.roles[r.String()]
	if !ok {
		return false, ""
	}
	return true, e.Message
}

// routeMessage is the maintenance message of the role routed as route,
// or "" when it is live.
func (m *maintenanceRouter) routeMessage(route string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.roles {
		if e.Spec != nil && contract.RouteName(e.Spec) == route {
			if e.Message == "" {
				return DefaultMaintenanceMessage
			}
			return e.Message
		}
	}
	return ""
}

// DefaultMaintenanceMessage is shown when `app maintenance` gives none.
const DefaultMaintenanceMessage = "The site is down for maintenance. Please check back soon."

// ServeHTTP answers every request with the 503 page of the role whose proxy
// hosts match the request's Host (Traefik passes it through).
func (m *maintenanceRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, contract.ErrorPagesPath) {
		m.pages.Handler(m.routeMessage).ServeHTTP(w, r)
		return
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	m.mu.Lock()
	msg := ""
	keys := make([]string, 0, len(m.roles))
	for k := range m.roles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e := m.roles[k]
		if len(e.Hosts) == 0 && msg == "" {
			msg = e.Message
		}
		for _, h := range e.Hosts {
			if strings.EqualFold(h, host) {
				msg = e.Message
			}
		}
	}
	m.mu.Unlock()
	if msg == "" {
		msg = DefaultMaintenanceMessage
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Retry-After", "60")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	// A failed write means the client is gone; there is no one to tell.
	_, _ = fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>Maintenance</title></head><body><h1>Maintenance</h1><p>%s</p></body></html>\n", html.EscapeString(msg))
}

// Package sidecarclient is the plugin's client of a host's kamal-sidecar
// API: HTTP over any connection the caller can dial (typically the sidecar's
// unix socket forwarded over SSH), with the request and response types of
// pkg/contract.
package sidecarclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Dialer opens a connection to a sidecar's API: a unix socket, or the same
// socket forwarded over SSH (ssh.Client.Dial("unix", SocketPath)).
type Dialer func(ctx context.Context) (net.Conn, error)

// UnixDialer dials a local unix socket.
func UnixDialer(path string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
}

// Client tuning.
const (
	// DefaultCallTimeout bounds a non-streaming call when ctx has no deadline.
	DefaultCallTimeout = 60 * time.Second
	// maxResponse bounds a non-streaming response body.
	maxResponse = 64 << 20
)

// Client talks to one sidecar. Calls take ctx first; streaming calls
// (Apply, Rollback, LoadImage) are bounded by ctx only.
type Client struct {
	// Who, when set, is sent as contract.HeaderWho on every request and recorded in
	// the host's audit log for deploys and rollbacks.
	Who string

	http *http.Client
	base string
}

// NewClient returns a client that opens its connections with dial.
func NewClient(dial Dialer) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx)
		},
		MaxIdleConns:       4,
		IdleConnTimeout:    30 * time.Second,
		DisableCompression: true,
	}
	return &Client{http: &http.Client{Transport: tr}, base: "http://kamal-sidecar"}
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Apply sends a wire spec and streams the swap's progress to emit; it
// returns when the swap finished. A failed swap returns *contract.Error with
// CodeDeployFailed, the failed step and green's last log lines.
func (c *Client) Apply(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*contract.Result, error) {
	var buf bytes.Buffer
	if err := d.Encode(&buf); err != nil {
		return nil, fmt.Errorf("encode spec: %w", err)
	}
	return c.stream(ctx, contract.PathApply, &buf, emit)
}

// Rollback switches a role to a retained version, streaming progress.
func (c *Client) Rollback(ctx context.Context, req contract.RollbackRequest, emit func(contract.Event)) (*contract.Result, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode rollback: %w", err)
	}
	return c.stream(ctx, contract.PathRollback, bytes.NewReader(body), emit)
}

func (c *Client) stream(ctx context.Context, path string, body io.Reader, emit func(contract.Event)) (*contract.Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	c.setWho(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call sidecar %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }() // the body was read or the error says more
	if resp.StatusCode/100 != 2 {
		return nil, readError(resp)
	}
	return contract.ReadEvents(resp.Body, emit)
}

// StopRole stops a role's live container.
func (c *Client) StopRole(ctx context.Context, req contract.RoleRequest) (*contract.RoleResponse, error) {
	var out contract.RoleResponse
	return &out, c.call(ctx, http.MethodPost, contract.PathRoleStop, nil, req, &out)
}

// Maintenance switches a role between maintenance mode and live.
func (c *Client) Maintenance(ctx context.Context, req contract.MaintenanceRequest) (*contract.MaintenanceResponse, error) {
	var out contract.MaintenanceResponse
	return &out, c.call(ctx, http.MethodPost, contract.PathMaintenance, nil, req, &out)
}

// PrepareAssets bridges a role's assets for a version before any swap.
func (c *Client) PrepareAssets(ctx context.Context, req contract.AssetsRequest) (*contract.AssetsResponse, error) {
	var out contract.AssetsResponse
	return &out, c.call(ctx, http.MethodPost, contract.PathAssetsPrepare, nil, req, &out)
}

// StartRole starts a role's live container again and routes to it once
// healthy.
func (c *Client) StartRole(ctx context.Context, req contract.RoleRequest) (*contract.RoleResponse, error) {
	var out contract.RoleResponse
	return &out, c.call(ctx, http.MethodPost, contract.PathRoleStart, nil, req, &out)
}

// Versions lists a role's containers kept on the host, newest first.
func (c *Client) Versions(ctx context.Context, r contract.Role) (*contract.VersionsResponse, error) {
	q := url.Values{contract.QueryService: {r.Service}, contract.QueryRole: {r.Role}}
	if r.Destination != "" {
		q.Set(contract.QueryDestination, r.Destination)
	}
	var out contract.VersionsResponse
	return &out, c.call(ctx, http.MethodGet, contract.PathVersions, q, nil, &out)
}

// SettledVersions is Versions once the role's operation under way, if any,
// has ended (see contract.QuerySettled): what the role serves after a
// cancelled swap wound down, not while it does.
func (c *Client) SettledVersions(ctx context.Context, r contract.Role) (*contract.VersionsResponse, error) {
	q := url.Values{contract.QueryService: {r.Service}, contract.QueryRole: {r.Role}, contract.QuerySettled: {"1"}}
	if r.Destination != "" {
		q.Set(contract.QueryDestination, r.Destination)
	}
	var out contract.VersionsResponse
	return &out, c.call(ctx, http.MethodGet, contract.PathVersions, q, nil, &out)
}

// LoadImage streams a `docker save` archive (plain or gzip) into the host's
// `docker load`. With expectID set, the sidecar verifies the image is
// present afterwards (ErrImageID if not). ErrLayerMissing means a partial
// archive lacked a layer the host no longer has: resend in full.
func (c *Client) LoadImage(ctx context.Context, archive io.Reader, expectID string) (*contract.ImageLoadResponse, error) {
	u := c.base + contract.PathImageLoad
	if expectID != "" {
		u += "?" + url.Values{contract.QueryExpectID: {expectID}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, archive)
	if err != nil {
		return nil, fmt.Errorf("build request %s: %w", contract.PathImageLoad, err)
	}
	req.Header.Set("Content-Type", "application/x-tar")
	c.setWho(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call sidecar %s: %w", contract.PathImageLoad, err)
	}
	defer func() { _ = resp.Body.Close() }() // the body was read or the error says more
	if resp.StatusCode/100 != 2 {
		return nil, readError(resp)
	}
	var out contract.ImageLoadResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&out); err != nil {
		return nil, fmt.Errorf("decode %s response: %w", contract.PathImageLoad, err)
	}
	return &out, nil
}

// Lock returns the deploy lock's state.
func (c *Client) Lock(ctx context.Context) (*contract.LockStatus, error) {
	var out contract.LockStatus
	return &out, c.call(ctx, http.MethodGet, contract.PathLock, nil, nil, &out)
}

// AcquireLock takes the deploy lock. A lock held by another holder returns
// an *contract.Error matching ErrLockHeld whose Lock field says who holds it; set
// Force to break it.
func (c *Client) AcquireLock(ctx context.Context, req contract.LockRequest) (*contract.LockStatus, error) {
	var out contract.LockStatus
	return &out, c.call(ctx, http.MethodPost, contract.PathLockAcquire, nil, req, &out)
}

// ReleaseLock releases the deploy lock (ErrLockNotOwned if another holder
// has it, unless Force).
func (c *Client) ReleaseLock(ctx context.Context, req contract.LockRequest) (*contract.LockStatus, error) {
	var out contract.LockStatus
	return &out, c.call(ctx, http.MethodPost, contract.PathLockRelease, nil, req, &out)
}

// AppendAudit appends one entry to the host's audit log.
func (c *Client) AppendAudit(ctx context.Context, e contract.AuditEntry) (*contract.AuditEntry, error) {
	var out contract.AuditEntry
	return &out, c.call(ctx, http.MethodPost, contract.PathAudit, nil, e, &out)
}

// Audit returns the last limit entries of the audit log (0: the sidecar's
// default).
func (c *Client) Audit(ctx context.Context, limit int) (*contract.AuditLog, error) {
	var q url.Values
	if limit > 0 {
		q = url.Values{contract.QueryLimit: {strconv.Itoa(limit)}}
	}
	var out contract.AuditLog
	return &out, c.call(ctx, http.MethodGet, contract.PathAudit, q, nil, &out)
}

// BootTraefik starts the host's Traefik container if it is not running with
// the same configuration.
func (c *Client) BootTraefik(ctx context.Context, req contract.TraefikRequest) (*contract.TraefikStatus, error) {
	var out contract.TraefikStatus
	return &out, c.call(ctx, http.MethodPost, contract.PathTraefikBoot, nil, req, &out)
}

// RebootTraefik replaces the host's Traefik container.
func (c *Client) RebootTraefik(ctx context.Context, req contract.TraefikRequest) (*contract.TraefikStatus, error) {
	var out contract.TraefikStatus
	return &out, c.call(ctx, http.MethodPost, contract.PathTraefikReboot, nil, req, &out)
}

// Status returns every role's state on the host.
func (c *Client) Status(ctx context.Context) (*contract.Status, error) {
	var out contract.Status
	return &out, c.call(ctx, http.MethodGet, contract.PathStatus, nil, nil, &out)
}

// Health returns nil when the sidecar answers its health check.
func (c *Client) Health(ctx context.Context) error {
	return c.call(ctx, http.MethodGet, contract.PathHealth, nil, nil, nil)
}

// call does one JSON request/response exchange.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, in, out any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCallTimeout)
		defer cancel()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s request: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("build request %s: %w", path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.setWho(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("call sidecar %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }() // the body was read or the error says more
	if resp.StatusCode/100 != 2 {
		return readError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return fmt.Errorf("decode %s response: %w", path, err)
	}
	return nil
}

func (c *Client) setWho(req *http.Request) {
	if c.Who != "" {
		req.Header.Set(contract.HeaderWho, c.Who)
	}
}

// readError turns a non-2xx response into *contract.Error.
func readError(resp *http.Response) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("read sidecar error (HTTP %d): %w", resp.StatusCode, err)
	}
	var e contract.Error
	if json.Unmarshal(data, &e) != nil || e.Code == "" {
		return &contract.Error{Status: resp.StatusCode, Code: contract.CodeInternal, Message: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(data))}
	}
	e.Status = resp.StatusCode
	return &e
}

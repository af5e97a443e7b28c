package sidecar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Server tunables.
const (
	// DefaultStaleLockAfter is how long a lock may be held before status
	// reports it stale.
	DefaultStaleLockAfter = 30 * time.Minute
	// defaultAuditTail and maxAuditTail bound GET /v1/audit.
	defaultAuditTail = 100
	maxAuditTail     = 10000
	// statusProbeTimeout bounds one health probe made for /v1/status.
	statusProbeTimeout = 2 * time.Second
	// roleOpTimeout bounds a stop or start of a role.
	roleOpTimeout = 5 * time.Minute
	// startWait bounds how long a swap waits for the start-up reconcile.
	startWait = 2 * time.Minute
)

// Server is the sidecar's HTTP API: the mutating handler for the unix
// socket and the read-only monitoring handler.
type Server struct {
	deps    Deps
	log     *slog.Logger
	version string
	lock    *Lock
	audit   *Audit
	table   *roleTable
	metrics *Metrics
	now     func() time.Time
	// base is cancelled when the sidecar shuts down.
	base context.Context
	// ready is set once the start-up reconcile has finished; readyCh is
	// closed at the same time.
	ready     atomic.Bool
	readyCh   chan struct{}
	readyOnce sync.Once
}

// markReady records that the start-up reconcile has finished.
func (s *Server) markReady() {
	s.readyOnce.Do(func() {
		s.ready.Store(true)
		close(s.readyCh)
	})
}

// waitReady blocks a swap until the start-up reconcile has finished
// (bounded by startWait and ctx), so a swap never races the repair of an
// interrupted one.
func (s *Server) waitReady(ctx context.Context) error {
	if s.ready.Load() {
		return nil
	}
	t := time.NewTimer(startWait)
	defer t.Stop()
	select {
	case <-s.readyCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errStarting
	}
}

// ServerConfig holds what NewServer needs besides Deps.
type ServerConfig struct {
	// StateDir holds the journal, lock and audit log.
	StateDir string
	// Version is the sidecar's build version.
	Version string
	// StaleLockAfter, default DefaultStaleLockAfter.
	StaleLockAfter time.Duration
	// Logger, default slog.Default().
	Logger *slog.Logger
	// Now, default time.Now (tests fix the clock).
	Now func() time.Time
}

// NewServer builds a server over deps and loads the journal. A journal file
// that cannot be read is logged and skipped.
func NewServer(ctx context.Context, cfg ServerConfig, deps Deps) *Server {
	if cfg.StaleLockAfter == 0 {
		cfg.StaleLockAfter = DefaultStaleLockAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		deps:    deps,
		log:     cfg.Logger.With("component", "api"),
		version: cfg.Version,
		lock:    NewLock(cfg.StateDir, cfg.StaleLockAfter, cfg.Now),
		audit:   NewAudit(cfg.StateDir, cfg.Now),
		table:   newRoleTable(NewJournal(cfg.StateDir)),
		metrics: NewMetrics(cfg.Version),
		now:     cfg.Now,
		base:    ctx,
		readyCh: make(chan struct{}),
	}
	if err := s.table.load(); err != nil {
		s.log.Error("load journal", "err", err)
	}
	for _, rec := range s.table.list() {
		s.metrics.Live(rec.Role, rec.LiveVersion)
	}
	if deps.warm != nil {
		deps.warm.attach(deps.Containers.Stop, s.table.begin, func(r contract.Role) string {
			return s.table.get(r).LiveContainer
		})
	}
	return s
}

// runWarm stops warm containers when their windows end (after the
// start-up reconcile), until ctx ends.
func (s *Server) runWarm(ctx context.Context) {
	if s.deps.warm == nil {
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-s.readyCh:
	}
	s.deps.warm.run(ctx)
}

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// APIHandler serves the full API; mount it on the unix socket only.
func (s *Server) APIHandler() http.Handler {
	mux := http.NewServeMux()
	s.mountReadOnly(mux)
	mux.HandleFunc("POST "+contract.PathApply, s.handleApply)
	mux.HandleFunc("POST "+contract.PathRollback, s.handleRollback)
	mux.HandleFunc("POST "+contract.PathRoleStop, s.handleRoleStop)
	mux.HandleFunc("POST "+contract.PathRoleStart, s.handleRoleStart)
	mux.HandleFunc("GET "+contract.PathVersions, s.handleVersions)
	mux.HandleFunc("POST "+contract.PathImageLoad, s.handleImageLoad)
	mux.HandleFunc("GET "+contract.PathLock, s.handleLock)
	mux.HandleFunc("POST "+contract.PathLockAcquire, s.handleLockAcquire)
	mux.HandleFunc("POST "+contract.PathLockRelease, s.handleLockRelease)
	mux.HandleFunc("GET "+contract.PathAudit, s.handleAuditRead)
	mux.HandleFunc("POST "+contract.PathAudit, s.handleAuditAppend)
	mux.HandleFunc("POST "+contract.PathTraefikBoot, s.handleTraefik(false))
	mux.HandleFunc("POST "+contract.PathTraefikReboot, s.handleTraefik(true))
	mux.HandleFunc("POST "+contract.PathMaintenance, s.handleMaintenance)
	mux.HandleFunc("POST "+contract.PathAssetsPrepare, s.handleAssetsPrepare)
	return jsonErrors(mux)
}

// MonitorHandler serves the read-only endpoints for the monitoring
// listener.
func (s *Server) MonitorHandler() http.Handler {
	mux := http.NewServeMux()
	s.mountReadOnly(mux)
	return jsonErrors(mux)
}

func (s *Server) mountReadOnly(mux *http.ServeMux) {
	mux.HandleFunc("GET "+contract.PathHealth, s.handleHealth)
	mux.HandleFunc("GET "+contract.PathStatus, s.handleStatus)
	mux.Handle("GET "+contract.PathMetrics, s.metrics.Handler())
}

// jsonErrors turns the mux's own 404 and 405 replies into JSON errors.
func jsonErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			// Let the mux compute 404 vs 405 (with Allow), then rewrite.
			rec := &statusRecorder{header: http.Header{}}
			h.ServeHTTP(rec, r)
			code, msg := contract.CodeNotFound, "no such endpoint: "+r.URL.Path
			if rec.status == http.StatusMethodNotAllowed {
				code, msg = contract.CodeUnsupported, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)
				if allow := rec.header.Get("Allow"); allow != "" {
					w.Header().Set("Allow", allow)
				}
			}
			writeError(w, &contract.Error{Status: rec.status, Code: code, Message: msg})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// statusRecorder captures a handler's status and headers, dropping the body.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header { return r.header }
func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(p), nil
}
func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.version})
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Status(r.Context()))
}

// settleTimeout bounds how long GET versions?settled waits for the role's
// operation under way: below the plugin's live-version check (10 s), and
// longer than a cancelled swap takes to wind down (its undo stops green
// within 5 s).
const settleTimeout = 8 * time.Second

func (s *Server) handleVersions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	role := contract.Role{Service: q.Get(contract.QueryService), Destination: q.Get(contract.QueryDestination), Role: q.Get(contract.QueryRole)}
	if err := role.Validate(); err != nil {
		writeError(w, validationError(err))
		return
	}
	if q.Get(contract.QuerySettled) != "" {
		// Past the bound the answer is what the journal says now, as
		// without the wait.
		ctx, cancel := context.WithTimeout(r.Context(), settleTimeout)
		s.table.waitIdle(ctx, role)
		cancel()
	}
	vs, err := s.deps.Swaps.Versions(r.Context(), role)
	if err != nil {
		writeError(w, fmt.Errorf("list versions of %s: %w", role, err))
		return
	}
	rec := s.table.get(role)
	for i := range vs {
		if rec.LiveVersion != "" {
			vs[i].Live = vs[i].Version == rec.LiveVersion && !rec.Stopped
		}
	}
	if vs == nil {
		vs = []contract.Version{}
	}
	writeJSON(w, http.StatusOK, contract.VersionsResponse{Role: role, Versions: vs})
}

func (s *Server) handleLock(w http.ResponseWriter, _ *http.Request) {
	st, err := s.lock.Status()
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleLockAcquire(w http.ResponseWriter, r *http.Request) {
	var req contract.LockRequest
	if err := decodeRequest(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	st, change, err := s.lock.Acquire(req)
	s.auditLock(req, change, err)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleLockRelease(w http.ResponseWriter, r *http.Request) {
	var req contract.LockRequest
	if err := decodeRequest(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	st, change, err := s.lock.Release(req)
	s.auditLock(req, change, err)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// auditLock records a lock change (or a refused one).
func (s *Server) auditLock(req contract.LockRequest, change LockChange, err error) {
	action := change.Action
	if action == "" && err == nil {
		return // releasing a free lock changes nothing
	}
	e := contract.AuditEntry{Who: req.Holder, Action: action, What: req.Version, Result: resultOK,
		Details: map[string]string{}}
	if req.Message != "" {
		e.Details["message"] = req.Message
	}
	if change.Previous.Locked && change.Previous.Holder != req.Holder {
		e.Details["previousHolder"] = change.Previous.Holder
	}
	if err != nil {
		e.Action = "lock-refused"
		e.Result = err.Error()
	}
	s.appendAudit(e)
}

func (s *Server) handleAuditRead(w http.ResponseWriter, r *http.Request) {
	limit := defaultAuditTail
	if v := r.URL.Query().Get(contract.QueryLimit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditTail {
			writeError(w, badRequest(contract.QueryLimit, fmt.Sprintf("%s: %q must be an integer in 1..%d", contract.QueryLimit, v, maxAuditTail)))
			return
		}
		limit = n
	}
	entries, err := s.audit.Tail(limit)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, contract.AuditLog{Entries: entries})
}

func (s *Server) handleAuditAppend(w http.ResponseWriter, r *http.Request) {
	var e contract.AuditEntry
	if err := decodeRequest(r.Body, &e); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.audit.Append(e)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// appendAudit appends e, logging (not failing the request) on error.
func (s *Server) appendAudit(e contract.AuditEntry) {
	if _, err := s.audit.Append(e); err != nil {
		s.log.Error("append audit log", "action", e.Action, "err", err)
	}
}

func whoOr(who string) string {
	if strings.TrimSpace(who) == "" {
		return "unknown"
	}
	return who
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client is gone if this fails
}

// writeError writes err as a JSON *contract.Error with a fitting status.
func writeError(w http.ResponseWriter, err error) {
	var e *contract.Error
	if !errors.As(err, &e) {
		e = &contract.Error{Code: contract.CodeInternal, Message: err.Error()}
	} else if e.Message == "" {
		c := *e
		c.Message = err.Error()
		e = &c
	}
	status := e.Status
	if status == 0 {
		status = statusFor(e.Code)
	}
	out := *e
	out.Status = status
	writeJSON(w, status, &out)
}

// statusFor maps error codes to HTTP statuses.
func statusFor(code string) int {
	switch code {
	case contract.CodeBadRequest:
		return http.StatusBadRequest
	case contract.CodeNotFound:
		return http.StatusNotFound
	case contract.CodeConflict, contract.CodeLockHeld, contract.CodeLockNotOwned, contract.CodeLayerMissing:
		return http.StatusConflict
	case contract.CodeImageID, contract.CodeImageMissing:
		return http.StatusUnprocessableEntity
	case contract.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case contract.CodeUnsupported:
		return http.StatusMethodNotAllowed
	case contract.CodeStarting:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

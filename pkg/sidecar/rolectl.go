package sidecar

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dockerkamal/docker-kamal/pkg/sidecarapi"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

func (s *Server) handleRoleStop(w http.ResponseWriter, r *http.Request) {
	s.roleOp(w, r, actionStop, s.stopRole)
}

func (s *Server) handleRoleStart(w http.ResponseWriter, r *http.Request) {
	s.roleOp(w, r, actionStart, s.startRole)
}

// roleOp decodes a RoleRequest, runs fn with the role marked busy, and
// audits the outcome.
func (s *Server) roleOp(w http.ResponseWriter, r *http.Request, action string, fn func(context.Context, RoleRecord) (bool, error)) {
	var req sidecarapi.RoleRequest
	if err := decodeRequest(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if err := s.waitReady(r.Context()); err != nil {
		writeError(w, err)
		return
	}
	end, err := s.table.begin(req.Role, action)
	if err != nil {
		writeError(w, err)
		return
	}
	defer end()
	rec := s.table.get(req.Role)
	if rec.LiveContainer == "" {
		writeError(w, &sidecarapi.Error{Code: sidecarapi.CodeNotFound, Message: fmt.Sprintf("%s has no live container on this host", req.Role)})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), roleOpTimeout)
	defer cancel()
	running, err := fn(ctx, rec)
	who := req.Who
	if who == "" {
		who = r.Header.Get(sidecarapi.HeaderWho)
	}
	audit := sidecarapi.AuditEntry{Who: whoOr(who), Action: action, What: req.Role.String() + " " + rec.LiveVersion, Result: resultOK}
	if err != nil {
		audit.Result = "failed: " + errSummary(err)
	}
	s.appendAudit(audit)
	end()
	if err != nil {
		writeError(w, fmt.Errorf("%s %s: %w", action, req.Role, err))
		return
	}
	writeJSON(w, http.StatusOK, sidecarapi.RoleResponse{Role: req.Role, Version: rec.LiveVersion, Container: rec.LiveContainer, Running: running})
}

// stopRole stops the live container; Traefik keeps its route, so requests
// fail until start.
func (s *Server) stopRole(ctx context.Context, rec RoleRecord) (bool, error) {
	timeout := spec.DefaultStopTimeout
	if rec.LiveSpec != nil && rec.LiveSpec.StopTimeout > 0 {
		timeout = rec.LiveSpec.StopTimeout.D()
	}
	if _, err := s.table.update(rec.Role, func(r *RoleRecord) { r.Stopped = true }); err != nil {
		return true, err
	}
	if err := s.deps.Containers.Stop(ctx, rec.LiveContainer, timeout); err != nil {
		return true, err
	}
	s.metrics.Live(rec.Role, "")
	return false, nil
}

// startRole starts the live container, waits until healthy and routes it.
func (s *Server) startRole(ctx context.Context, rec RoleRecord) (bool, error) {
	if err := s.deps.Containers.Start(ctx, rec.LiveContainer); err != nil {
		return false, err
	}
	if rec.LiveSpec != nil {
		if err := s.deps.Prober.WaitHealthy(ctx, rec.LiveSpec, rec.LiveContainer); err != nil {
			return true, err
		}
		if err := s.deps.Router.Route(ctx, rec.LiveSpec, rec.LiveContainer); err != nil {
			return true, err
		}
	}
	if _, err := s.table.update(rec.Role, func(r *RoleRecord) { r.Stopped = false }); err != nil {
		return true, err
	}
	s.metrics.Live(rec.Role, rec.LiveVersion)
	return true, nil
}

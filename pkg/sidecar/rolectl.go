package sidecar

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

func (s *Server) handleRoleStop(w http.ResponseWriter, r *http.Request) {
	s.roleOp(w, r, actionStop, s.stopRole)
}

func (s *Server) handleRoleStart(w http.ResponseWriter, r *http.Request) {
	s.roleOp(w, r, actionStart, s.startRole)
}

// roleOp decodes a RoleRequest and runs fn on the role's live container
// (see onLiveRole).
func (s *Server) roleOp(w http.ResponseWriter, r *http.Request, action string, fn func(context.Context, RoleRecord) (bool, error)) {
	var req contract.RoleRequest
	if err := decodeRequest(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	var running bool
	rec, ok := s.onLiveRole(w, r, req.Role, req.Who, action, func(ctx context.Context, rec RoleRecord) (err error) {
		running, err = fn(ctx, rec)
		return err
	})
	if ok {
		writeJSON(w, http.StatusOK, contract.RoleResponse{Role: req.Role, Version: rec.LiveVersion, Container: rec.LiveContainer, Running: running})
	}
}

// onLiveRole runs fn on role's live container with the role marked busy and
// a deadline, and audits the outcome. It writes the error response itself
// and reports whether fn succeeded, so the caller writes only its answer.
func (s *Server) onLiveRole(w http.ResponseWriter, r *http.Request, role contract.Role, who, action string, fn func(context.Context, RoleRecord) error) (RoleRecord, bool) {
	if err := s.waitReady(r.Context()); err != nil {
		writeError(w, err)
		return RoleRecord{}, false
	}
	end, err := s.table.begin(role, action)
	if err != nil {
		writeError(w, err)
		return RoleRecord{}, false
	}
	defer end()
	rec := s.table.get(role)
	if rec.LiveContainer == "" {
		writeError(w, &contract.Error{Code: contract.CodeNotFound, Message: fmt.Sprintf("%s has no live container on this host", role)})
		return rec, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), roleOpTimeout)
	defer cancel()
	err = fn(ctx, rec)
	if who == "" {
		who = r.Header.Get(contract.HeaderWho)
	}
	audit := contract.AuditEntry{Who: whoOr(who), Action: action, What: role.String() + " " + rec.LiveVersion, Result: resultOK}
	if err != nil {
		audit.Result = "failed: " + errSummary(err)
	}
	s.appendAudit(audit)
	end()
	if err != nil {
		writeError(w, fmt.Errorf("%s %s: %w", action, role, err))
		return rec, false
	}
	return rec, true
}

// stopRole stops the live container; Traefik keeps its route, so requests
// fail until start.
func (s *Server) stopRole(ctx context.Context, rec RoleRecord) (bool, error) {
	timeout := contract.DefaultStopTimeout
	if rec.LiveSpec != nil && rec.LiveSpec.StopTimeout > 0 {
		timeout = rec.LiveSpec.StopTimeout.D()
	}
	if _, err := s.table.update(rec.Role, func(r *RoleRecord) { r.Stopped = true }); err != nil {
		return true, err
	}
	if err := s.deps.Containers.Stop(ctx, rec.LiveContainer, timeout); err != nil {
		return true, err
	}
	if s.deps.warm != nil {
		// A stopped role keeps nothing warm: a start boots the live one.
		if err := s.deps.warm.stopRole(ctx, rec.Role); err != nil {
			return false, err
		}
	}
	s.metrics.Live(rec.Role, "")
	return false, nil
}

// startRole starts the live container, waits until healthy and routes it.
func (s *Server) startRole(ctx context.Context, rec RoleRecord) (bool, error) {
	if rec.LiveSpec == nil {
		if err := s.deps.Containers.Start(ctx, rec.LiveContainer); err != nil {
			return false, err
		}
	} else if started, err := s.startServing(ctx, rec.LiveSpec, rec.LiveContainer); err != nil {
		return started, err
	}
	if _, err := s.table.update(rec.Role, func(r *RoleRecord) { r.Stopped = false }); err != nil {
		return true, err
	}
	s.metrics.Live(rec.Role, rec.LiveVersion)
	return true, nil
}

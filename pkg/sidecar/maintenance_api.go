package sidecar

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dockerkamal/docker-kamal/pkg/sidecarapi"
)

const actionMaintenance = "maintenance"

// handleMaintenance puts a role into maintenance (503 page through
// Traefik) or takes it live again.
func (s *Server) handleMaintenance(w http.ResponseWriter, r *http.Request) {
	var req sidecarapi.MaintenanceRequest
	if err := decodeRequest(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if s.deps.Maintenance == nil {
		writeError(w, &sidecarapi.Error{Code: sidecarapi.CodeUnsupported, Message: "this sidecar has no maintenance mode"})
		return
	}
	if err := s.waitReady(r.Context()); err != nil {
		writeError(w, err)
		return
	}
	end, err := s.table.begin(req.Role, actionMaintenance)
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
	d, err := s.deps.Containers.Spec(ctx, rec.LiveContainer)
	if err == nil {
		err = s.deps.Maintenance.Set(ctx, d, rec.LiveContainer, req.On, req.Message)
	}
	who := req.Who
	if who == "" {
		who = r.Header.Get(sidecarapi.HeaderWho)
	}
	action := "live"
	if req.On {
		action = actionMaintenance
	}
	audit := sidecarapi.AuditEntry{Who: whoOr(who), Action: action, What: req.Role.String() + " " + rec.LiveVersion, Result: resultOK}
	if err != nil {
		audit.Result = "failed: " + errSummary(err)
	}
	s.appendAudit(audit)
	if err != nil {
		writeError(w, fmt.Errorf("%s %s: %w", action, req.Role, err))
		return
	}
	on, msg := s.deps.Maintenance.On(req.Role)
	writeJSON(w, http.StatusOK, sidecarapi.MaintenanceResponse{Role: req.Role, On: on, Message: msg})
}

package sidecar

import (
	"context"
	"net/http"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

const actionMaintenance = "maintenance"

// handleMaintenance puts a role into maintenance (503 page through
// Traefik) or takes it live again.
func (s *Server) handleMaintenance(w http.ResponseWriter, r *http.Request) {
	var req contract.MaintenanceRequest
	if err := decodeRequest(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if s.deps.Maintenance == nil {
		writeError(w, &contract.Error{Code: contract.CodeUnsupported, Message: "this sidecar has no maintenance mode"})
		return
	}
	action := "live"
	if req.On {
		action = actionMaintenance
	}
	_, ok := s.onLiveRole(w, r, req.Role, req.Who, action, func(ctx context.Context, rec RoleRecord) error {
		d, err := s.specOf(ctx, rec.LiveContainer)
		if err != nil {
			return err
		}
		return s.deps.Maintenance.Set(ctx, d, rec.LiveContainer, req.On, req.Message)
	})
	if ok {
		on, msg := s.deps.Maintenance.On(req.Role)
		writeJSON(w, http.StatusOK, contract.MaintenanceResponse{Role: req.Role, On: on, Message: msg})
	}
}

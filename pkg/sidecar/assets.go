package sidecar

import (
	"net/http"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// handleAssetsPrepare bridges a role's assets ahead of the fleet's swaps.
// It changes only asset directories, never containers or routes.
func (s *Server) handleAssetsPrepare(w http.ResponseWriter, r *http.Request) {
	var req contract.AssetsRequest
	if err := decodeRequest(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if err := s.waitReady(r.Context()); err != nil {
		writeError(w, err)
		return
	}
	resp, err := s.deps.Swaps.PrepareAssets(r.Context(), req)
	if err != nil {
		writeError(w, apiError(err))
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

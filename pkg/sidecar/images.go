package sidecar

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// imageIDRE matches a full image ID.
var imageIDRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// handleImageLoad feeds a `docker save` archive to the engine and, given
// expectID, checks the image is on the host afterwards.
func (s *Server) handleImageLoad(w http.ResponseWriter, r *http.Request) {
	expect := r.URL.Query().Get(contract.QueryExpectID)
	if expect != "" && !imageIDRE.MatchString(expect) {
		writeError(w, badRequest(contract.QueryExpectID, fmt.Sprintf("%s: %q is not a full image ID (sha256:<64 hex>)", contract.QueryExpectID, expect)))
		return
	}
	log := s.log.With("expectID", expect)
	start := s.now()
	out, err := s.deps.Images.ImageLoad(r.Context(), r.Body)
	if errors.Is(err, docker.ErrLayerMissing) {
		writeError(w, &contract.Error{Status: http.StatusConflict, Code: contract.CodeLayerMissing,
			Message: fmt.Sprintf("load image: a layer the archive left out is missing on this host; resend the full archive: %v", err)})
		return
	}
	if err != nil {
		writeError(w, &contract.Error{Status: http.StatusUnprocessableEntity, Code: contract.CodeBadRequest,
			Message: fmt.Sprintf("load image: %v", err)})
		return
	}
	resp := contract.ImageLoadResponse{Loaded: loadedRefs(out), ExpectID: expect}
	if expect != "" {
		ok, err := s.hasImage(r, expect)
		if err != nil {
			writeError(w, fmt.Errorf("verify image %s: %w", expect, err))
			return
		}
		if !ok {
			writeError(w, &contract.Error{Status: http.StatusUnprocessableEntity, Code: contract.CodeImageID,
				Message: fmt.Sprintf("image %s not present after load (loaded %s)", expect, strings.Join(resp.Loaded, ", "))})
			return
		}
		resp.Verified = true
	}
	log.Info("image loaded", "loaded", resp.Loaded, "elapsed", s.now().Sub(start))
	writeJSON(w, http.StatusOK, resp)
}

// hasImage reports whether the image with ID id is on the host.
func (s *Server) hasImage(r *http.Request, id string) (bool, error) {
	img, err := s.deps.Images.ImageInspect(r.Context(), id)
	if docker.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return img.ID == id, nil
}

// loadedRefs picks "Loaded image: X" / "Loaded image ID: X" lines out of
// docker load's output.
func loadedRefs(out string) []string {
	refs := []string{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		for _, p := range []string{"Loaded image ID: ", "Loaded image: "} {
			if v, ok := strings.CutPrefix(line, p); ok {
				refs = append(refs, v)
			}
		}
	}
	return refs
}

package contract

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Assets is Kamal's asset_path for a role behind the proxy.
type Assets struct {
	// Path is the absolute directory in the image that holds the assets,
	// e.g. "/rails/public/assets".
	Path string `json:"path"`
	// Options are bind-mount options for the mount ("ro", "z"), as after
	// the second colon of asset_path.
	Options string `json:"options,omitempty"`
}

var mountOptionsRE = regexp.MustCompile(`^[a-zA-Z,]*$`)

func (a *Assets) validate() error {
	if !strings.HasPrefix(a.Path, "/") || strings.Contains(a.Path, ":") || path.Clean(a.Path) == "/" {
		return &FieldError{"assets.path", fmt.Sprintf("%q must be an absolute directory other than / and hold no colon", a.Path)}
	}
	if !mountOptionsRE.MatchString(a.Options) {
		return &FieldError{"assets.options", fmt.Sprintf("%q must be comma-separated mount options", a.Options)}
	}
	return nil
}

// AssetsRequest asks a host to bridge a role's assets for a version before
// any host swaps to it. Kamal prepares every host first because a page
// rendered by the first host to switch links the new fingerprinted files,
// and the load balancer may send those requests to a host still serving
// the old version; that container must already see them.
type AssetsRequest struct {
	Role
	// Version is the version to prepare.
	Version string `json:"version"`
	// Image and Assets are those of the spec about to be applied. Both are
	// empty for a rollback: the retained container's spec gives them.
	Image  string  `json:"image,omitempty"`
	Assets *Assets `json:"assets,omitempty"`
}

// Validate names the first bad field.
func (r *AssetsRequest) Validate() error {
	rb := RollbackRequest{Role: r.Role, Version: r.Version}
	if err := rb.Validate(); err != nil {
		return err
	}
	if (r.Image == "") != (r.Assets == nil) {
		return &FieldError{Field: "image", Reason: "image and assets go together: both for a deploy, neither for a rollback"}
	}
	if r.Assets != nil {
		return r.Assets.validate()
	}
	return nil
}

// AssetsResponse says what a host prepared.
type AssetsResponse struct {
	// Dir is the host directory the version's container mounts at the
	// asset path; empty when the role has no asset path.
	Dir string `json:"dir,omitempty"`
	// Merged is the serving version whose assets were bridged both ways;
	// empty when nothing serves or it is the same version.
	Merged string `json:"merged,omitempty"`
}

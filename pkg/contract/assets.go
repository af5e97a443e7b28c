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

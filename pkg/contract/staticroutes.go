package contract

import (
	"encoding/json"
	"fmt"
)

// StaticRoute is a route Traefik serves as given, with no swap behind it:
// an accessory's proxy (its host names to its container, with Traefik's
// own health check). Config is a Traefik dynamic configuration the plugin
// builds (pkg/traefik/routes.Accessory); the sidecar writes it as is.
type StaticRoute struct {
	// Name names the route's file and Traefik objects; unique in its
	// service.
	Name string `json:"name"`
	// Config is the dynamic configuration, a JSON object.
	Config json.RawMessage `json:"config"`
}

// validateStaticRoutes names the first bad route of a boot request.
func validateStaticRoutes(service string, rs []StaticRoute) error {
	if service != "" && !ValidName(service) {
		return &FieldError{Field: "routesService", Reason: fmt.Sprintf("%q is not a valid name", service)}
	}
	if len(rs) > 0 && service == "" {
		return &FieldError{Field: "routesService", Reason: "routes need their service"}
	}
	seen := map[string]bool{}
	for i, r := range rs {
		field := fmt.Sprintf("routes[%d]", i)
		if !ValidName(r.Name) {
			return &FieldError{Field: field + ".name", Reason: fmt.Sprintf("%q is not a valid name", r.Name)}
		}
		if seen[r.Name] {
			return &FieldError{Field: field + ".name", Reason: fmt.Sprintf("%q appears twice", r.Name)}
		}
		seen[r.Name] = true
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(r.Config, &obj); err != nil || len(obj) == 0 {
			return &FieldError{Field: field + ".config", Reason: "must be a non-empty JSON object"}
		}
	}
	return nil
}

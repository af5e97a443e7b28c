package contract

import "strings"

// Entrypoint names, as the sidecar's Traefik static configuration defines
// them and the plugin's routers refer to them.
const (
	EntryPointWeb       = "web"
	EntryPointWebSecure = "websecure"
)

// RouteName is the Traefik object name (router, service, file) of d's role:
// service-role[-destination]. Both sides derive it, so it lives here.
func RouteName(d *Deploy) string {
	parts := []string{d.Service, d.Role}
	if d.Destination != "" {
		parts = append(parts, d.Destination)
	}
	return strings.Join(parts, "-")
}

// ContainerName follows Kamal: service-role[-destination]-version.
func (d *Deploy) ContainerName() string {
	return ContainerName(d.Service, d.Role, d.Destination, d.Version)
}

// ContainerName builds a Kamal container name.
func ContainerName(service, role, destination, version string) string {
	parts := []string{service, role}
	if destination != "" {
		parts = append(parts, destination)
	}
	return strings.Join(append(parts, version), "-")
}

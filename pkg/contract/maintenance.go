package contract

import (
	"fmt"
)

// MaxMaintenanceMessage bounds the message shown on the maintenance page.
const MaxMaintenanceMessage = 4096

// MaintenanceRequest puts a proxied role into maintenance mode (Traefik
// answers its requests with a 503 page) or takes it out (live). Deploys and
// rollbacks made during maintenance keep the page up; live routes to the
// role's live container.
type MaintenanceRequest struct {
	Role
	// On is true for maintenance, false for live.
	On bool `json:"on"`
	// Message is shown on the 503 page (plain text, HTML-escaped).
	Message string `json:"message,omitempty"`
	// Who is recorded in the audit log.
	Who string `json:"who,omitempty"`
}

// Validate names the first bad field.
func (r *MaintenanceRequest) Validate() error {
	if err := r.Role.Validate(); err != nil {
		return err
	}
	if len(r.Message) > MaxMaintenanceMessage {
		return &FieldError{Field: "message", Reason: fmt.Sprintf("longer than %d bytes", MaxMaintenanceMessage)}
	}
	return nil
}

// MaintenanceResponse reports a role's mode after the change.
type MaintenanceResponse struct {
	Role
	// On is true while the role is in maintenance.
	On bool `json:"on"`
	// Message is the page's message.
	Message string `json:"message,omitempty"`
}

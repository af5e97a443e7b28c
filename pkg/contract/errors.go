package contract

import (
	"fmt"
	"strings"
)

// Error codes.
const (
	CodeBadRequest   = "bad_request"   // malformed or invalid input; Field names it
	CodeNotFound     = "not_found"     // no such role, version or path
	CodeConflict     = "conflict"      // another operation on the role is under way
	CodeLockHeld     = "lock_held"     // the deploy lock is held by someone else; Lock says by whom
	CodeLockNotOwned = "lock_not_held" // release by someone who does not hold the lock
	CodeLayerMissing = "layer_missing" // a partial image archive lacked a layer the host pruned; resend in full
	CodeImageID      = "image_id"      // loaded image's ID differs from the expected one
	CodeImageMissing = "image_missing" // the spec's image is not on the host: ship it first
	CodeDeployFailed = "deploy_failed" // the swap failed; blue still serves; Logs has green's tail
	CodeInternal     = "internal"
	CodeTooLarge     = "too_large"
	CodeUnsupported  = "unsupported"
	CodeStarting     = "starting" // the sidecar is still reconciling after its start: retry shortly
)

// Error is the body of every failed response and of a failed stream's last
// event. It is also the Go error the Client returns, so callers can test
// codes with errors.Is against the Err* sentinels.
type Error struct {
	// Status is the HTTP status (0 inside a stream).
	Status int `json:"status,omitempty"`
	// Code is one of the Code* values.
	Code string `json:"code"`
	// Message says what went wrong.
	Message string `json:"message"`
	// Field names the bad request field for CodeBadRequest.
	Field string `json:"field,omitempty"`
	// Step names the swap step that failed.
	Step string `json:"step,omitempty"`
	// Logs are the failed container's last log lines.
	Logs []string `json:"logs,omitempty"`
	// Lock is the current lock for CodeLockHeld.
	Lock *LockStatus `json:"lock,omitempty"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Field != "" && !strings.HasPrefix(e.Message, e.Field) {
		fmt.Fprintf(&b, " (field %s)", e.Field)
	}
	if e.Step != "" {
		fmt.Fprintf(&b, " (step %s)", e.Step)
	}
	if len(e.Logs) > 0 {
		b.WriteString("\nlast log lines:\n  ")
		b.WriteString(strings.Join(e.Logs, "\n  "))
	}
	return b.String()
}

// Is matches another *Error by Code, so errors.Is(err, ErrLockHeld) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrBadRequest   = &Error{Code: CodeBadRequest}
	ErrNotFound     = &Error{Code: CodeNotFound}
	ErrConflict     = &Error{Code: CodeConflict}
	ErrLockHeld     = &Error{Code: CodeLockHeld}
	ErrLockNotOwned = &Error{Code: CodeLockNotOwned}
	ErrLayerMissing = &Error{Code: CodeLayerMissing}
	ErrImageID      = &Error{Code: CodeImageID}
	ErrImageMissing = &Error{Code: CodeImageMissing}
	ErrDeployFailed = &Error{Code: CodeDeployFailed}
	ErrStarting     = &Error{Code: CodeStarting}
)

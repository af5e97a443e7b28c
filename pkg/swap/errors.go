package swap

import (
	"errors"
	"strings"
)

// Sentinel errors callers test with errors.Is.
var (
	// ErrImageMissing: the image is not on the host; ship it first.
	ErrImageMissing = errors.New("image not present on host")
	// ErrImageMismatch: the image on the host is not the expected ID.
	ErrImageMismatch = errors.New("image ID differs from the spec")
	// ErrNotRetained: no container of that version is left to roll back to.
	ErrNotRetained = errors.New("no retained container of that version")
	// ErrBusy: another deploy or rollback of the same role is running.
	ErrBusy = errors.New("a swap of this role is already running")
	// ErrNoRouter: the role has a proxy but the engine has no Router.
	ErrNoRouter = errors.New("role has a proxy but no router is configured")
	// ErrNameTaken: green's name is held by a container kamal does not
	// manage, which a deploy never renames.
	ErrNameTaken = errors.New("taken by a container kamal does not manage")
	// ErrUnsupportedOption: the spec asks for a container option this
	// sidecar cannot apply.
	ErrUnsupportedOption = errors.New("not supported by this sidecar")
	// ErrNoSpecLabel: a container has no LabelSpec to roll back with.
	ErrNoSpecLabel = errors.New("container has no " + LabelSpec + " label")
	// ErrForeignSpec: a retained container's LabelSpec names another role
	// or version than its name and labels.
	ErrForeignSpec = errors.New("spec label names another role or version")
)

// StepError is a failed step, with the container it concerned and, when the
// new container failed, its last log lines.
type StepError struct {
	Step      string
	Container string
	// Logs are the container's last log lines (may be empty).
	Logs string
	Err  error
}

func (e *StepError) Error() string {
	msg := "swap step " + e.Step
	if e.Container != "" {
		msg += " of " + e.Container
	}
	msg += ": " + e.Err.Error()
	if logs := strings.TrimRight(e.Logs, "\n"); logs != "" {
		msg += "\nlast log lines of " + e.Container + ":\n" + logs
	}
	return msg
}

func (e *StepError) Unwrap() error { return e.Err }

// ErrNoAssetBridge: a spec with an asset path reached an engine built
// without an Assets implementation.
var ErrNoAssetBridge = errors.New("this engine has no asset bridge")

// ErrGreenStillRouted: after a failure the proxy could not be pointed back
// at blue (or the route removed), so green was left running and serving.
var ErrGreenStillRouted = errors.New("the proxy still routes to the new container, which was left running")

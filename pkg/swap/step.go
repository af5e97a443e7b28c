package swap

import (
	"context"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Step is one typed operation of a plan: a value that says what it will do
// (Format) before it runs (Execute). A new kind of step is one type in
// steps_*.go with its name below, and the line of PlanDeploy or
// PlanRollback that adds it; a step that runs once the proxy may route to
// green is also listed in RoutesGreen.
type Step interface {
	// Name is the step's name in events and journals.
	Name() string
	// Format is the step's detail in the printed plan.
	Format() string
	// Container names the container(s) the step acts on, for events ("" for
	// none).
	Container() string
	// Execute performs the step within r, the plan's execution.
	Execute(ctx context.Context, r *run) error
}

// Step names. They are persisted (the sidecar's journal, events, the
// plugin's output): never change a value.
const (
	StepCheckImage    = "check-image"
	StepRenameAside   = "rename-aside"
	StepStartGreen    = "start-green"
	StepStartRetained = "start-retained"
	StepWaitHealthy   = contract.StepWaitHealthy
	StepCutover       = contract.StepCutover
	StepDrainBlue     = "drain-blue"
	StepStopBlue      = "stop-blue"
	StepPrune         = "prune"
	StepPrepareAssets = "prepare-assets"
	StepPruneAssets   = "prune-assets"
	StepKeepWarm      = "keep-warm"
)

// RoutesGreen reports whether, once the named step has begun, the proxy may
// route to green: a sidecar restarted from then on finishes the swap (when
// green is healthy) instead of undoing it.
func RoutesGreen(step string) bool {
	switch step {
	case StepCutover, StepDrainBlue, StepKeepWarm, StepStopBlue, StepPrune, StepPruneAssets:
		return true
	}
	return false
}

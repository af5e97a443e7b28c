package sidecar

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// journalDir is the journal's directory in the state dir.
const journalDir = "journal"

// Actions journaled and audited.
const (
	actionDeploy    = "deploy"
	actionRollback  = "rollback"
	actionStart     = "start"
	actionStop      = "stop"
	actionReconcile = "reconcile"
)

// Swap states, persisted as strings.
const (
	swapRunning   = "running"   // under way (a record left in this state was interrupted)
	swapSucceeded = "succeeded" // green is live
	swapFailed    = "failed"    // green never went live; blue serves
	swapFinished  = "finished"  // interrupted after cutover began; reconcile made green live
	swapUndone    = "undone"    // interrupted; reconcile left (or put) blue live
)

// SwapRecord is one deploy or rollback of a role, journaled at every step.
type SwapRecord struct {
	// Action is "deploy" or "rollback".
	Action string `json:"action"`
	// Version is the target (green) version; Green its container.
	Version string `json:"version"`
	Green   string `json:"green"`
	// BlueVersion and Blue were live when the swap began ("" on a first
	// deploy).
	BlueVersion string `json:"blueVersion,omitempty"`
	Blue        string `json:"blue,omitempty"`
	// Step is the last step begun, StepStatus its progress.
	Step       string `json:"step,omitempty"`
	StepStatus string `json:"stepStatus,omitempty"`
	// CutoverBegun is set once Traefik may route to green: from then on a
	// restart finishes the swap (if green is healthy) instead of undoing it.
	CutoverBegun bool `json:"cutoverBegun,omitempty"`
	// State is one of the swap* values.
	State string `json:"state"`
	// Error is the failure, if any.
	Error     string    `json:"error,omitempty"`
	StartedAt time.Time `json:"startedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// RoleRecord is everything the sidecar remembers about one role. It is
// stored without secrets (specs are Redacted).
type RoleRecord struct {
	Role contract.Role `json:"role"`
	// LiveVersion and LiveContainer are what Traefik routes to after the
	// last successful swap.
	LiveVersion   string `json:"liveVersion,omitempty"`
	LiveContainer string `json:"liveContainer,omitempty"`
	// LiveSpec is the (redacted) spec of the live version: enough to route
	// and probe it again, never to recreate it.
	LiveSpec *contract.Deploy `json:"liveSpec,omitempty"`
	// PendingSpec is the (redacted) spec of the swap under way.
	PendingSpec *contract.Deploy `json:"pendingSpec,omitempty"`
	// Swap is the current or last swap.
	Swap *SwapRecord `json:"swap,omitempty"`
	// Stopped is set while the role was stopped on purpose (stop API).
	Stopped bool `json:"stopped,omitempty"`
	// Last* describe the last finished action.
	LastAction  string    `json:"lastAction,omitempty"`
	LastVersion string    `json:"lastVersion,omitempty"`
	LastResult  string    `json:"lastResult,omitempty"`
	LastError   string    `json:"lastError,omitempty"`
	LastAt      time.Time `json:"lastAt,omitzero"`
}

// Journal stores one RoleRecord file per role, each written atomically.
type Journal struct {
	dir string
}

// NewJournal returns the journal under stateDir.
func NewJournal(stateDir string) *Journal {
	return &Journal{dir: filepath.Join(stateDir, journalDir)}
}

// Dir is where the records live.
func (j *Journal) Dir() string { return j.dir }

// path is service.role[.destination].json (names cannot contain dots).
func (j *Journal) path(r contract.Role) string {
	name := r.Service + "." + r.Role
	if r.Destination != "" {
		name += "." + r.Destination
	}
	return filepath.Join(j.dir, name+".json")
}

// Save writes rec atomically.
func (j *Journal) Save(rec *RoleRecord) error {
	if err := writeJSONAtomic(j.path(rec.Role), rec); err != nil {
		return fmt.Errorf("journal %s: %w", rec.Role, err)
	}
	return nil
}

// Load reads one role's record; (nil, nil) when there is none.
func (j *Journal) Load(r contract.Role) (*RoleRecord, error) {
	var rec RoleRecord
	err := readJSON(j.path(r), &rec)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load journal of %s: %w", r, err)
	}
	return &rec, nil
}

// All reads every record, sorted by role. Unreadable files are returned as
// errors joined together after the records that did load.
func (j *Journal) All() ([]*RoleRecord, error) {
	entries, err := os.ReadDir(j.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal dir: %w", err)
	}
	var (
		out  []*RoleRecord
		errs []error
	)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		var rec RoleRecord
		if err := readJSON(filepath.Join(j.dir, e.Name()), &rec); err != nil {
			errs = append(errs, fmt.Errorf("load journal %s: %w", e.Name(), err))
			continue
		}
		out = append(out, &rec)
	}
	sort.Slice(out, func(a, b int) bool { return roleLess(out[a].Role, out[b].Role) })
	return out, errors.Join(errs...)
}

func roleLess(a, b contract.Role) bool {
	if a.Service != b.Service {
		return a.Service < b.Service
	}
	if a.Destination != b.Destination {
		return a.Destination < b.Destination
	}
	return a.Role < b.Role
}

// roleOf is the role a wire spec targets.
func roleOf(d *contract.Deploy) contract.Role {
	return contract.Role{Service: d.Service, Destination: d.Destination, Role: d.Role}
}

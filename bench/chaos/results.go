package chaos

import "time"

// Results are a soak's record, written as JSON.
type Results struct {
	Seed    uint64    `json:"seed"`
	Cycles  int       `json:"cycles"`
	Replay  string    `json:"replay"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	Commit  string    `json:"commit,omitempty"`
	CPUs    int       `json:"cpus"`
	// Rate is requests/s sent to each host.
	Rate    float64     `json:"rate_per_host"`
	Hosts   int         `json:"hosts"`
	Retain  int         `json:"retain_containers"`
	Summary Summary     `json:"summary"`
	Runs    []*CycleRun `json:"cycles_run"`
	// Error is why the soak stopped early, if it did.
	Error string `json:"error,omitempty"`
}

// Summary condenses the cycles.
type Summary struct {
	CyclesRun int            `json:"cycles_run"`
	Ops       map[string]int `json:"ops"`
	Faults    map[string]int `json:"faults"`
	// Landed counts faults that came while the command still ran.
	Landed     map[string]int `json:"faults_while_running"`
	CommandsOK int            `json:"commands_ok"`
	// Requests, Failed and Excluded add up every host's Tally.
	Requests int `json:"requests"`
	Failed   int `json:"failed_requests"`
	Excluded int `json:"excluded_requests"`
	// PartitionDetect are the times, in s, from a partition to the
	// command saying the host was lost.
	PartitionDetect []float64 `json:"partition_detect_s"`
	LockReleases    int       `json:"lock_releases"`
	Converges       int       `json:"converging_deploys"`
	Violations      []string  `json:"violations"`
	CycleSeconds    []float64 `json:"cycle_s"`
}

// CycleRun is one cycle as it went.
type CycleRun struct {
	Cycle
	// Ran is the op as run (a rollback with nothing to roll back to runs
	// as a deploy).
	Ran     Op      `json:"ran"`
	Old     string  `json:"old"`
	Target  string  `json:"target"`
	Exit    int     `json:"exit"`
	Seconds float64 `json:"command_s"`
	// FaultAt is when the fault came, s after the command started.
	FaultAt float64 `json:"fault_at_s,omitempty"`
	Landed  bool    `json:"fault_while_running,omitempty"`
	// HealedAt is when the fault's host served again, s after the
	// command started.
	HealedAt float64 `json:"healed_at_s,omitempty"`
	Detect   float64 `json:"partition_detect_s,omitempty"`
	// After are the versions each host serves after the command and
	// healing, before any repair; Final after the repair.
	After      map[string]string `json:"after"`
	Final      map[string]string `json:"final"`
	LockHeld   bool              `json:"lock_left_held,omitempty"`
	Converged  bool              `json:"converging_deploy,omitempty"`
	Tally      map[string]Tally  `json:"requests"`
	Violations []string          `json:"violations,omitempty"`
	Total      float64           `json:"cycle_s"`
}

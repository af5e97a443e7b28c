package chaos

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Op is the command a cycle runs.
type Op string

// Ops.
const (
	OpDeploy       Op = "deploy"
	OpRollback     Op = "rollback"
	OpNeverHealthy Op = "never-healthy"
)

// Ops are the commands, in the order the seed draws from.
var Ops = []Op{OpDeploy, OpRollback, OpNeverHealthy}

// Fault is what a cycle breaks.
type Fault string

// The fault matrix.
const (
	FaultNone        Fault = "none"
	FaultPartition   Fault = "partition"
	FaultDockerd     Fault = "dockerd-restart"
	FaultReboot      Fault = "reboot"
	FaultTraefik     Fault = "traefik-kill"
	FaultSidecar     Fault = "sidecar-kill"
	FaultPluginKill  Fault = "plugin-sigkill"
	FaultInterrupt   Fault = "ctrl-c"
	defaultMaxCycles       = 1000
)

// Faults are the fault matrix, in the order the seed draws from.
var Faults = []Fault{FaultNone, FaultPartition, FaultDockerd, FaultReboot, FaultTraefik, FaultSidecar, FaultPluginKill, FaultInterrupt}

// HostFault reports whether f takes its host out of service for a while:
// its requests in the fault window do not count.
func (f Fault) HostFault() bool {
	switch f {
	case FaultPartition, FaultDockerd, FaultReboot, FaultTraefik:
		return true
	}
	return false
}

// Targeted reports whether f acts on one host.
func (f Fault) Targeted() bool { return f.HostFault() || f == FaultSidecar }

// Interrupt reports whether f ends the command itself.
func (f Fault) Interrupt() bool { return f == FaultPluginKill || f == FaultInterrupt }

// Cycle is one drawn cycle.
type Cycle struct {
	N     int   `json:"n"`
	Op    Op    `json:"op"`
	Fault Fault `json:"fault"`
	// Host is the index of the host a targeted fault hits.
	Host int `json:"host"`
	// At is when the fault comes, as a fraction of the command's expected
	// duration.
	At float64 `json:"at"`
}

func (c Cycle) String() string {
	s := fmt.Sprintf("cycle %d: %s, fault %s", c.N, c.Op, c.Fault)
	if c.Fault != FaultNone {
		if c.Fault.Targeted() {
			s += fmt.Sprintf(" on host%d", c.Host+1)
		}
		s += fmt.Sprintf(" at %.0f%% of the expected duration", c.At*100)
	}
	return s
}

// Plan draws n cycles from seed over hosts hosts. The same seed gives the
// same cycles. only, when set, restricts the faults drawn.
func Plan(seed uint64, n, hosts int, only []Fault) ([]Cycle, error) {
	if n < 1 || n > defaultMaxCycles {
		return nil, fmt.Errorf("chaos plan: %d cycles, want 1..%d", n, defaultMaxCycles)
	}
	if hosts < 1 {
		return nil, fmt.Errorf("chaos plan: %d hosts", hosts)
	}
	faults := Faults
	if len(only) > 0 {
		faults = only
	}
	rng := rand.New(rand.NewPCG(seed, 0x6b616d616c))
	out := make([]Cycle, n)
	for i := range out {
		out[i] = Cycle{
			N: i + 1, Op: Ops[rng.IntN(len(Ops))], Fault: faults[rng.IntN(len(faults))],
			Host: rng.IntN(hosts), At: rng.Float64(),
		}
	}
	return out, nil
}

// ParseFaults parses a comma-separated list of fault names.
func ParseFaults(s string) ([]Fault, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Fault
	for _, name := range strings.Split(s, ",") {
		f := Fault(strings.TrimSpace(name))
		ok := false
		for _, k := range Faults {
			ok = ok || k == f
		}
		if !ok {
			return nil, fmt.Errorf("unknown fault %q (want one of %v)", f, Faults)
		}
		out = append(out, f)
	}
	return out, nil
}

package bench

import (
	"io"
	"time"
)

// Tunables and their defaults (full run; Smoke shrinks the counts).
const (
	DefaultRepeats = 5
	// DefaultHeavyRepeats is for the minute-long figures (deploy with
	// build, fan-out).
	DefaultHeavyRepeats = 3
	DefaultRate         = 340.0  // requests/s per web host (3 web hosts: about 1,000 in all)
	DefaultMinRequests  = 10_000 // per zero-downtime case, all web hosts together
	DefaultStartupRuns  = 30
	// DefaultFreshRatio is the share of requests on new connections.
	DefaultFreshRatio = 0.5
	// slowMs is how long a slow in-flight request takes (/sleep).
	slowMs = 2500
	// slowRate is the rate of slow requests per web host.
	slowRate = 4.0
	// opTimeout bounds one docker kamal command.
	opTimeout = 5 * time.Minute
	// scenarioTimeout bounds one scenario.
	scenarioTimeout = 15 * time.Minute
	// naiveHost is the Host header routing to the naive baseline.
	naiveHost = "naive.bench"
)

// Options configure a run.
type Options struct {
	// Root is the repository checkout (binaries are built from it).
	Root string
	// Smoke runs every scenario with tiny counts (for make test).
	Smoke bool
	// Only, when set, names the scenarios to run.
	Only []string
	// Repeats per timed figure; Rate per web host; MinRequests per load
	// case; StartupRuns per binary. Zero means the default (or the smoke
	// value).
	Repeats      int
	HeavyRepeats int
	Rate         float64
	MinRequests  int
	StartupRuns  int
	// Log receives progress lines.
	Log io.Writer
	// LogDir, when set, receives the full output of every docker kamal
	// command, each line with its time since the command started.
	LogDir string
}

func (o Options) withDefaults() Options {
	if o.Smoke {
		def := func(v *int, d int) {
			if *v == 0 {
				*v = d
			}
		}
		def(&o.Repeats, 1)
		def(&o.HeavyRepeats, 1)
		def(&o.MinRequests, 200)
		def(&o.StartupRuns, 3)
		if o.Rate == 0 {
			o.Rate = 50
		}
	}
	if o.Repeats == 0 {
		o.Repeats = DefaultRepeats
	}
	if o.HeavyRepeats == 0 {
		o.HeavyRepeats = min(o.Repeats, DefaultHeavyRepeats)
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.MinRequests == 0 {
		o.MinRequests = DefaultMinRequests
	}
	if o.StartupRuns == 0 {
		o.StartupRuns = DefaultStartupRuns
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// needs lists, for a scenario, the scenarios that use what it leaves
// behind (setup's deployed fleet, the zero-downtime deploys' versions and
// cutovers).
var needs = map[string][]string{
	"setup":         {"zero-downtime", "cutover", "rollback", "e2e-deploy", "footprint"},
	"zero-downtime": {"cutover", "rollback"},
}

func (o Options) wants(name string) bool {
	if len(o.Only) == 0 {
		return true
	}
	for _, n := range o.Only {
		if n == name {
			return true
		}
	}
	for _, dep := range needs[name] {
		if o.wants(dep) {
			return true
		}
	}
	return false
}

package bench

import (
	"fmt"
	"time"
)

// Results is one `make bench` run.
type Results struct {
	// Started is when the run began; Seconds its wall time.
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	// Smoke runs use tiny counts; their numbers are not figures.
	Smoke     bool        `json:"smoke"`
	Machine   Machine     `json:"machine"`
	Scenarios []*Scenario `json:"scenarios"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs          int    `json:"cpus"`
	GoVersion     string `json:"go"`
	DockerVersion string `json:"docker"`
	Commit        string `json:"commit"`
	// Load1 is the 1-minute load average when the run started (other work
	// on the machine skews the times).
	Load1 float64 `json:"load1"`
}

// Scenario is the outcome of one bench scenario.
type Scenario struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Seconds is the scenario's wall time.
	Seconds float64  `json:"seconds"`
	Metrics []Metric `json:"metrics,omitempty"`
	// Load holds the request counts of load-bearing cases.
	Load []LoadCase `json:"load,omitempty"`
	// Phases is a breakdown of one command's wall time.
	Phases []Phase  `json:"phases,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	// Error is why the scenario stopped early, if it did.
	Error string `json:"error,omitempty"`
	// Skipped: not selected (-only).
	Skipped bool `json:"skipped,omitempty"`
}

// Metric is one measured quantity with its repeats.
type Metric struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Stat   Stat      `json:"stat"`
	Values []float64 `json:"values"`
	// Target, when set, is what we hold ourselves to; Met says whether
	// this run met it.
	Target *Target `json:"target,omitempty"`
	Met    *bool   `json:"met,omitempty"`
}

// Target is a bound on a statistic of a metric ("median <= 300").
type Target struct {
	// Of is "median" or "max".
	Of    string  `json:"of"`
	Op    string  `json:"op"` // "<=" or ">="
	Value float64 `json:"value"`
}

func (t Target) String() string { return fmt.Sprintf("%s %s %s", t.Of, t.Op, fmtNum(t.Value)) }

// check reports whether s meets t.
func (t Target) check(s Stat) bool {
	v := s.Median
	if t.Of == "max" {
		v = s.Max
	}
	if t.Op == ">=" {
		return v >= t.Value
	}
	return v <= t.Value
}

// AtMost and AtLeast build targets on the median; MaxAtMost on the maximum.
func AtMost(v float64) *Target    { return &Target{Of: "median", Op: "<=", Value: v} }
func AtLeast(v float64) *Target   { return &Target{Of: "median", Op: ">=", Value: v} }
func MaxAtMost(v float64) *Target { return &Target{Of: "max", Op: "<=", Value: v} }

// Add records a metric from its repeated values.
func (s *Scenario) Add(name, unit string, values []float64, target *Target) *Metric {
	m := Metric{Name: name, Unit: unit, Stat: Summarize(values), Values: values, Target: target}
	if target != nil && len(values) > 0 {
		ok := target.check(m.Stat)
		m.Met = &ok
	}
	s.Metrics = append(s.Metrics, m)
	return &s.Metrics[len(s.Metrics)-1]
}

// AddRatio records a/b paired by repeat.
func (s *Scenario) AddRatio(name string, a, b []float64, target *Target) *Metric {
	var r []float64
	for i := 0; i < len(a) && i < len(b); i++ {
		if b[i] != 0 {
			r = append(r, a[i]/b[i])
		}
	}
	return s.Add(name, "x", r, target)
}

// Note appends a line of context.
func (s *Scenario) Note(format string, args ...any) {
	s.Notes = append(s.Notes, fmt.Sprintf(format, args...))
}

// Metric returns the named metric, or nil.
func (s *Scenario) Metric(name string) *Metric {
	for i := range s.Metrics {
		if s.Metrics[i].Name == name {
			return &s.Metrics[i]
		}
	}
	return nil
}

// Scenario returns the named scenario, or nil.
func (r *Results) Scenario(name string) *Scenario {
	for _, s := range r.Scenarios {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Missed lists every metric whose target this run did not meet, and every
// scenario that failed, as lines for the closing note.
func (r *Results) Missed() []string {
	var out []string
	for _, s := range r.Scenarios {
		if s.Error != "" {
			out = append(out, fmt.Sprintf("%s: did not finish: %s", s.Name, s.Error))
		}
		for _, m := range s.Metrics {
			if m.Met != nil && !*m.Met {
				out = append(out, fmt.Sprintf("%s: %s = %s %s, target %s", s.Name, m.Name, fmtNum(valueOf(m)), m.Unit, m.Target))
			}
		}
	}
	return out
}

func valueOf(m Metric) float64 {
	if m.Target != nil && m.Target.Of == "max" {
		return m.Stat.Max
	}
	return m.Stat.Median
}

// LoadCase is what constant load saw during one case of a scenario.
type LoadCase struct {
	Case string `json:"case"`
	// Operations is how many deploys/rollbacks/swaps ran under this load.
	Operations int `json:"operations"`
	// Hosts is how many web hosts took load, at Rate requests/s each.
	Hosts    int     `json:"hosts"`
	Rate     float64 `json:"rate_per_host"`
	Achieved float64 `json:"achieved_total_rate"`
	Requests int     `json:"requests"`
	Fresh    int     `json:"fresh"`
	OK       int     `json:"ok"`
	Non2xx   int     `json:"non_2xx"`
	Errors   int     `json:"errors"`
	// Slow counts the slow (/sleep) requests and how many of them failed.
	Slow       int `json:"slow,omitempty"`
	SlowFailed int `json:"slow_failed,omitempty"`
	// LoadgenCores is the CPU the bench process (the load generator, in
	// the main) used during the case, in cores; MachineCores the whole
	// machine's busy CPU (from /proc/stat), of Machine.CPUs.
	LoadgenCores float64 `json:"loadgen_cores,omitempty"`
	MachineCores float64 `json:"machine_cores,omitempty"`
	P50ms        float64 `json:"p50_ms"`
	P99ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
	// Timeline buckets the requests of the first host by send time.
	Timeline *Timeline `json:"timeline,omitempty"`
	// FirstErrors are a few distinct failure reasons.
	FirstErrors []string `json:"first_errors,omitempty"`
}

// Failed is every request that did not get a 2xx.
func (c LoadCase) Failed() int { return c.Non2xx + c.Errors }

// Timeline counts requests per bucket by outcome.
type Timeline struct {
	BucketMs int `json:"bucket_ms"`
	// Versions names the versions, in order of first sighting; OK[i][b] is
	// the 2xx responses from Versions[i] in bucket b.
	Versions []string `json:"versions"`
	OK       [][]int  `json:"ok"`
	Failed   []int    `json:"failed"`
	// Marks are operation starts, in ms from the timeline's start.
	Marks []float64 `json:"marks_ms,omitempty"`
}

// Phase is one part of a command's wall time.
type Phase struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1000 || v == float64(int64(v)):
		return fmt.Sprintf("%.0f", v)
	case v >= 100:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

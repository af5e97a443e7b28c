package loadgen

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Report is a finished run: every result, in send order, and a summary.
type Report struct {
	Results []Result `json:"results,omitempty"`
	Summary Summary  `json:"summary"`
}

// Summary condenses a run.
type Summary struct {
	URL string `json:"url"`
	// Start and End bound the run; Rate is the configured rate and
	// AchievedRate the requests actually sent per second.
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	Rate         float64   `json:"rate"`
	AchievedRate float64   `json:"achieved_rate"`
	// Total requests; OK got 2xx; Non2xx got another status; Errors got a
	// transport error (no status).
	Total  int `json:"total"`
	OK     int `json:"ok"`
	Non2xx int `json:"non_2xx"`
	Errors int `json:"errors"`
	// Fresh is how many used a new connection.
	Fresh int `json:"fresh"`
	// Latency percentiles over all requests.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
	// Statuses counts responses by status (0 = transport error).
	Statuses map[int]int `json:"statuses"`
	// Versions is the version timeline, ordered by first sighting.
	Versions []VersionSpan `json:"versions"`
	// FirstErrors are up to 5 distinct transport errors.
	FirstErrors []string `json:"first_errors,omitempty"`
}

// VersionSpan is when a version (X-App-Version) was seen in 2xx responses.
type VersionSpan struct {
	Version string    `json:"version"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Count   int       `json:"count"`
}

func newReport(cfg Config, start, end time.Time, results []Result) *Report {
	sort.Slice(results, func(i, j int) bool { return results[i].Seq < results[j].Seq })
	s := Summary{URL: cfg.URL, Start: start, End: end, Rate: cfg.Rate, Total: len(results), Statuses: map[int]int{}}
	if d := end.Sub(start).Seconds(); d > 0 {
		s.AchievedRate = float64(len(results)) / d
	}
	lat := make([]time.Duration, 0, len(results))
	spans := map[string]*VersionSpan{}
	seenErr := map[string]bool{}
	for _, r := range results {
		s.Statuses[r.Status]++
		lat = append(lat, r.Latency)
		if r.Fresh {
			s.Fresh++
		}
		switch {
		case r.Err != "":
			s.Errors++
			if !seenErr[r.Err] && len(s.FirstErrors) < 5 {
				seenErr[r.Err] = true
				s.FirstErrors = append(s.FirstErrors, r.Err)
			}
		case r.OK():
			s.OK++
		default:
			s.Non2xx++
		}
		if r.OK() {
			sp := spans[r.Version]
			if sp == nil {
				sp = &VersionSpan{Version: r.Version, First: r.Start}
				spans[r.Version] = sp
			}
			if r.Start.After(sp.Last) {
				sp.Last = r.Start
			}
			sp.Count++
		}
	}
	for _, sp := range spans {
		s.Versions = append(s.Versions, *sp)
	}
	sort.Slice(s.Versions, func(i, j int) bool { return s.Versions[i].First.Before(s.Versions[j].First) })
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	s.P50, s.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if len(lat) > 0 {
		s.Max = lat[len(lat)-1]
	}
	return &Report{Results: results, Summary: s}
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

// Failures returns the results that were not 2xx without error.
func (r *Report) Failures() []Result {
	var out []Result
	for _, x := range r.Results {
		if !x.OK() {
			out = append(out, x)
		}
	}
	return out
}

// String renders the summary as a small table.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "target     %s\n", s.URL)
	fmt.Fprintf(&b, "requests   %d in %v (%.1f/s of %.1f/s asked), %d on fresh connections\n",
		s.Total, s.End.Sub(s.Start).Round(time.Millisecond), s.AchievedRate, s.Rate, s.Fresh)
	fmt.Fprintf(&b, "ok         %d\nnon-2xx    %d\nerrors     %d\n", s.OK, s.Non2xx, s.Errors)
	fmt.Fprintf(&b, "latency    p50 %v  p99 %v  max %v\n", s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond), s.Max.Round(time.Microsecond))
	for _, v := range s.Versions {
		name := v.Version
		if name == "" {
			name = "(none)"
		}
		fmt.Fprintf(&b, "version    %-16s %6d  %v .. %v\n", name, v.Count,
			v.First.Sub(s.Start).Round(time.Millisecond), v.Last.Sub(s.Start).Round(time.Millisecond))
	}
	for _, e := range s.FirstErrors {
		fmt.Fprintf(&b, "error      %s\n", e)
	}
	return b.String()
}

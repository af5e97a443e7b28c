package chaos

import (
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// Window is when a host fault had its host out of service: from the
// injection until the host first served a request after the fault was
// healed (that request's end: requests sent while it came up queue in its
// listen backlog, and a Traefik just started answers those 404 until it has
// read its routes). An open window (To zero) lasts to the end of the load.
type Window struct {
	From, To time.Time
}

// Tally is what one host's requests got in a cycle.
type Tally struct {
	Requests int `json:"requests"`
	// Failed counts failed requests outside the fault window.
	Failed int `json:"failed"`
	// Excluded counts requests in flight during the fault window.
	Excluded    int      `json:"excluded,omitempty"`
	FirstErrors []string `json:"first_errors,omitempty"`
}

// WindowEnd is when the first successful request sent at or after healed
// ended, or zero when there is none.
func WindowEnd(results []loadgen.Result, healed time.Time) time.Time {
	var end time.Time
	for _, r := range results {
		done := r.Start.Add(r.Latency)
		if r.OK() && !r.Start.Before(healed) && (end.IsZero() || done.Before(end)) {
			end = done
		}
	}
	return end
}

// Count tallies results; a request in flight at any moment of w (when w is
// not nil) is excluded: sent before w ends and not finished before it
// began.
func Count(results []loadgen.Result, w *Window) Tally {
	var t Tally
	seen := map[string]bool{}
	for _, r := range results {
		t.Requests++
		if w != nil && r.Start.Add(r.Latency).After(w.From) && (w.To.IsZero() || r.Start.Before(w.To)) {
			t.Excluded++
			continue
		}
		if r.OK() {
			continue
		}
		t.Failed++
		why := r.Err
		if why == "" {
			why = fmt.Sprintf("HTTP %d", r.Status)
		}
		if !seen[why] && len(t.FirstErrors) < 3 {
			seen[why] = true
			t.FirstErrors = append(t.FirstErrors, fmt.Sprintf("%s at %s", why, r.Start.UTC().Format("15:04:05.000")))
		}
	}
	return t
}

package bench

import (
	"regexp"
	"strings"
	"time"
)

// phaseMarks are the plugin's progress lines that end a phase of a deploy,
// in the order they print. A phase lasts from the previous mark seen (or
// the command start) to its own mark.
var phaseMarks = []struct {
	name string
	re   *regexp.Regexp
}{
	{"start, connect, lock", regexp.MustCompile(`^\s*lock: acquired`)},
	{"build (pre-build hook + docker build)", regexp.MustCompile(`^\s*build \S+: done`)},
	{"ship", regexp.MustCompile(`^\s*ship: done`)},
	{"migrate", regexp.MustCompile(`^\s*migrations: done`)},
	{"swap (all hosts)", nil}, // ends at the last "deploy ROLE: done"
	{"unlock", regexp.MustCompile(`^\s*lock: released`)},
}

var (
	reSwapDone = regexp.MustCompile(`^\s*\[([^\]]+)\] deploy (\S+): done \(([^)]+)\)`)
	reShipDone = regexp.MustCompile(`^\s*\[([^\]]+)\] ship (\S+): ([^(]*?) \(([^)]+)\)$`)
)

// Phases splits a deploy's wall time by its progress lines, and lists each
// host's ship and swap as reported by the plugin. The remainder after the last mark
// is "audit, exit".
func Phases(r *Invocation) (phases []Phase, swaps []Phase) {
	var lastSwap time.Duration
	marks := map[string]time.Duration{}
	for _, l := range r.Lines {
		if m := reSwapDone.FindStringSubmatch(l.Text); m != nil {
			lastSwap = l.At
			if d, err := time.ParseDuration(m[3]); err == nil {
				swaps = append(swaps, Phase{Name: "swap " + m[2] + " on " + m[1], Seconds: d.Seconds()})
			}
			continue
		}
		if m := reShipDone.FindStringSubmatch(l.Text); m != nil {
			// The sidecar image is checked before the lock; only the
			// app's ship is a phase of the deploy.
			if d, err := time.ParseDuration(m[4]); err == nil && !strings.HasPrefix(m[2], "kamal-sidecar:") {
				swaps = append(swaps, Phase{Name: "ship to " + m[1] + " (" + m[3] + ")", Seconds: d.Seconds()})
			}
			continue
		}
		for _, pm := range phaseMarks {
			if pm.re != nil && pm.re.MatchString(l.Text) {
				if _, seen := marks[pm.name]; !seen {
					marks[pm.name] = l.At
				}
			}
		}
	}
	if lastSwap > 0 {
		marks["swap (all hosts)"] = lastSwap
	}
	var prev time.Duration
	for _, pm := range phaseMarks {
		at, ok := marks[pm.name]
		if !ok {
			continue
		}
		phases = append(phases, Phase{Name: pm.name, Seconds: (at - prev).Seconds()})
		prev = at
	}
	if r.Took > prev {
		phases = append(phases, Phase{Name: "audit, exit", Seconds: (r.Took - prev).Seconds()})
	}
	return phases, swaps
}

var reStepDone = regexp.MustCompile(`^\s*\[([^\]]+)\] (\S+) (start-green|start-retained|wait-healthy|cutover): (start|done)`)

// ServingAt is when, after the command started, every (host, role) of a
// verbose (-v) deploy or rollback served the new version: the sidecar's
// cutover done for roles behind the proxy, green healthy for the others.
// The command itself exits later, once the old containers drained and
// stopped. ok is false when a started swap never reached that point.
func ServingAt(r *Invocation) (at time.Duration, ok bool) {
	return servingAt(r, false)
}

// RoutedAt is ServingAt of the roles behind the proxy alone: when every
// host's Traefik served the new version (a job role may still be in its
// still-running check then).
func RoutedAt(r *Invocation) (at time.Duration, ok bool) {
	return servingAt(r, true)
}

func servingAt(r *Invocation, routedOnly bool) (at time.Duration, ok bool) {
	type pair struct{ host, role string }
	started := map[pair]bool{}
	healthy := map[pair]time.Duration{}
	cut := map[pair]time.Duration{}
	for _, l := range r.Lines {
		m := reStepDone.FindStringSubmatch(l.Text)
		if m == nil {
			continue
		}
		p := pair{m[1], m[2]}
		switch {
		case m[4] == "start" && (m[3] == "start-green" || m[3] == "start-retained"):
			started[p] = true
		case m[4] == "done" && m[3] == "wait-healthy":
			healthy[p] = l.At
		case m[4] == "done" && m[3] == "cutover":
			cut[p] = l.At
		}
	}
	if len(started) == 0 {
		return 0, false
	}
	routed := false
	for p := range started {
		t, okc := cut[p]
		if routedOnly && !okc {
			continue
		}
		routed = true
		if !okc {
			if t, okc = healthy[p]; !okc {
				return 0, false
			}
		}
		at = max(at, t)
	}
	return at, routed
}

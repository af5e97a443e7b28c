package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func summarize(runs []*CycleRun) Summary {
	s := Summary{Ops: map[string]int{}, Faults: map[string]int{}, Landed: map[string]int{}, Violations: []string{}}
	for _, r := range runs {
		s.CyclesRun++
		s.Ops[string(r.Ran)]++
		s.Faults[string(r.Fault)]++
		if r.Landed {
			s.Landed[string(r.Fault)]++
		}
		if r.Exit == 0 {
			s.CommandsOK++
		}
		for _, t := range r.Tally {
			s.Requests += t.Requests
			s.Failed += t.Failed
			s.Excluded += t.Excluded
		}
		if r.Detect > 0 {
			s.PartitionDetect = append(s.PartitionDetect, r.Detect)
		}
		if r.LockHeld {
			s.LockReleases++
		}
		if r.Converged {
			s.Converges++
		}
		for _, v := range r.Violations {
			s.Violations = append(s.Violations, fmt.Sprintf("cycle %d (%s, %s): %s", r.N, r.Ran, r.Fault, v))
		}
		s.CycleSeconds = append(s.CycleSeconds, r.Total)
	}
	return s
}

// Text is the soak's summary as Markdown.
func (res *Results) Text() string {
	s := res.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "Seed %d, %d of %d cycles run in %.0f s (commit %s, %d CPUs), 3 hosts, %.0f requests/s to each host's Traefik, retain_containers %d.\n\n",
		res.Seed, s.CyclesRun, res.Cycles, res.Seconds, res.Commit, res.CPUs, res.Rate, res.Retain)
	fmt.Fprintf(&b, "Replay: `%s`\n\n", res.Replay)
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| commands | %s; %d succeeded |\n", counts(s.Ops), s.CommandsOK)
	fmt.Fprintf(&b, "| faults injected | %s |\n", counts(s.Faults))
	fmt.Fprintf(&b, "| of which while the command ran | %s |\n", counts(s.Landed))
	fmt.Fprintf(&b, "| requests | %d, of which %d failed; %d left out (in flight to a host while a host fault had it down) |\n", s.Requests, s.Failed, s.Excluded)
	fmt.Fprintf(&b, "| partition to \"host lost\" | %s |\n", seconds(s.PartitionDetect))
	fmt.Fprintf(&b, "| cycle time | %s |\n", seconds(s.CycleSeconds))
	fmt.Fprintf(&b, "| repairs | %d `lock release`, %d converging deploys |\n", s.LockReleases, s.Converges)
	fmt.Fprintf(&b, "| invariant violations | %d |\n", len(s.Violations))
	for _, v := range s.Violations {
		fmt.Fprintf(&b, "\n- %s", v)
	}
	if res.Error != "" {
		fmt.Fprintf(&b, "\n\nStopped early: %s", res.Error)
	}
	return b.String() + "\n"
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func seconds(v []float64) string {
	if len(v) == 0 {
		return "none measured"
	}
	c := slices.Clone(v)
	slices.Sort(c)
	return fmt.Sprintf("median %.1f s, min %.1f s, max %.1f s (n = %d)", c[len(c)/2], c[0], c[len(c)-1], len(c))
}

// Write saves results.json-style JSON to jsonPath and the summary as
// Markdown to mdPath.
func (res *Results) Write(jsonPath, mdPath string) error {
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	for p, content := range map[string][]byte{jsonPath: append(data, '\n'), mdPath: []byte("# Chaos soak\n\nWritten by `make chaos` (bench/chaos); see its package doc for what each invariant counts.\n\n" + res.Text())} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

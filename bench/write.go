package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Figure is one SVG file and its caption.
type Figure struct {
	File, Caption, SVG string
}

// Figures draws the main figures from r (those whose data exist).
func Figures(r *Results) []Figure {
	var figs []Figure
	add := func(file, caption, svg string) { figs = append(figs, Figure{file, caption, svg}) }

	var loadBars []Bar
	var panels []LoadCase
	for _, name := range []string{"zero-downtime", "naive"} {
		s := r.Scenario(name)
		if s == nil {
			continue
		}
		for _, c := range s.Load {
			col := colOurs
			if name == "naive" {
				col = colBaseline
			}
			if c.Failed() > 0 {
				col = colFail
			}
			loadBars = append(loadBars, Bar{Label: c.Case, Value: float64(c.Failed()), Colour: col,
				Text: fmt.Sprintf("%d of %d failed", c.Failed(), c.Requests)})
			if c.Case == "deploy" || c.Case == "slow requests across cutover" || name == "naive" {
				panels = append(panels, c)
			}
		}
	}
	if len(loadBars) > 0 {
		add("zero-downtime.svg", "Failed requests (non-2xx + transport errors) under constant load, per case; naive = docker stop then docker run behind the same Traefik",
			BarChart{Title: "Failed requests under load (target 0)", Unit: "requests", Bars: loadBars}.SVG())
	}
	if len(panels) > 0 {
		add("timeline.svg", "Requests per 250 ms at the first web host during the cases: 2xx coloured by version, failures red",
			TimelineChart{Title: "Load timeline: versions served and failures", Panels: panels}.SVG())
	}
	if s := r.Scenario("cutover"); s != nil && len(s.Metrics) > 0 {
		add("cutover.svg", "Cutover latency, green healthy to Traefik serving green (median, whiskers min..max)",
			BarChart{Title: "Cutover latency", Unit: "ms", Target: 300, TargetLabel: "target 300 ms", Bars: bars(s.Metrics, "")}.SVG())
	}
	if s := r.Scenario("rollback"); s != nil && len(s.Metrics) > 0 {
		add("rollback.svg", "Rollback time: start to serving (warm: the replaced container still runs; cold: a stopped one boots) and command exit (targets: 3 s one host, 1 s warm fleet)",
			BarChart{Title: "Rollback time", Unit: "s", Target: 1, TargetLabel: "1 s (warm fleet)", Bars: bars(s.Metrics, "")}.SVG())
	}
	if s := r.Scenario("ship"); s != nil {
		var b, t []Bar
		for _, m := range s.Metrics {
			switch m.Name {
			case "changed layer (uncompressed)":
				b = append(b, bar(m, "changed layer", colBaseline))
			case "imageship bytes on the wire":
				b = append(b, bar(m, "imageship", colOurs))
			case "save|ssh load bytes on the wire":
				b = append(b, bar(m, "docker save | ssh docker load", colBaseline))
			case "imageship time":
				t = append(t, bar(m, "imageship, local bridge", colOurs))
			case "save|ssh load time":
				t = append(t, bar(m, "save | ssh load, local bridge", colBaseline))
			case "imageship time, " + shapedRate + " link":
				t = append(t, bar(m, "imageship, "+shapedRate, colOurs))
			case "save|ssh load time, " + shapedRate + " link":
				t = append(t, bar(m, "save | ssh load, "+shapedRate, colBaseline))
			}
		}
		if len(b) > 0 {
			add("ship-bytes.svg", "Bytes on the wire to ship a one-layer change of the sample app", BarChart{Title: "Shipping a one-layer change: bytes", Unit: "MB", Bars: b}.SVG())
		}
		if len(t) > 0 {
			add("ship-time.svg", "Time to ship a one-layer change of the sample app", BarChart{Title: "Shipping a one-layer change: time", Unit: "s", Bars: t}.SVG())
		}
	}
	if s := r.Scenario("fan-out"); s != nil {
		var b []Bar
		for _, m := range s.Metrics {
			if strings.HasPrefix(m.Name, "deploy to ") {
				b = append(b, bar(m, strings.TrimPrefix(m.Name, "deploy to "), colOurs))
			}
		}
		if len(b) > 0 {
			add("fanout.svg", "Deploy wall time of a warm one-layer change by number of hosts", BarChart{Title: "Fan-out: deploy time by hosts", Unit: "s", Bars: b}.SVG())
		}
	}
	if s := r.Scenario("e2e-deploy"); s != nil && len(s.Phases) > 0 {
		var parts []Phase
		for _, p := range s.Phases {
			if (!strings.HasPrefix(p.Name, "swap ") && !strings.HasPrefix(p.Name, "ship to ")) || p.Name == "swap (all hosts)" {
				parts = append(parts, p)
			}
		}
		add("e2e-deploy.svg", "docker kamal deploy of a one-line change with its build, 3 hosts: phases of the median run",
			StackedBar{Title: "End-to-end deploy with build, by phase", Unit: "s", Parts: parts, Target: 6, TargetLabel: "target 6 s"}.SVG())
	}
	if s := r.Scenario("startup"); s != nil && len(s.Metrics) >= 2 {
		add("startup.svg", "Start-up through the docker CLI: docker kamal version vs docker version",
			BarChart{Title: "Plugin start-up", Unit: "ms", Target: 100, TargetLabel: "target 100 ms", Bars: []Bar{
				bar(s.Metrics[0], "docker kamal version", colOurs), bar(s.Metrics[1], "docker version (client)", colBaseline)}}.SVG())
	}
	if s := r.Scenario("footprint"); s != nil {
		if m := s.Metric("sidecar idle RSS"); m != nil {
			add("footprint.svg", "Sidecar idle resident memory",
				BarChart{Title: "Sidecar idle RSS", Unit: "MiB", Target: 30, TargetLabel: "target 30 MiB", Bars: []Bar{bar(*m, "kamal-sidecar", colOurs)}}.SVG())
		}
	}
	return figs
}

func bar(m Metric, label, colour string) Bar {
	return Bar{Label: label, Value: m.Stat.Median, Lo: m.Stat.Min, Hi: m.Stat.Max, Colour: colour}
}

func bars(ms []Metric, colour string) []Bar {
	var out []Bar
	for _, m := range ms {
		if m.Stat.N > 0 {
			out = append(out, bar(m, m.Name, colour))
		}
	}
	return out
}

// Write saves results.json under benchDir and the figures and README under
// docsDir. notes (may be empty) is a hand-written closing note.
func Write(r *Results, benchDir, docsDir, notes string) error {
	for _, d := range []string{benchDir, docsDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := writeAtomic(filepath.Join(benchDir, "results.json"), append(data, '\n')); err != nil {
		return err
	}
	figs := Figures(r)
	for _, f := range figs {
		if err := writeAtomic(filepath.Join(docsDir, f.File), []byte(f.SVG)); err != nil {
			return err
		}
	}
	readme := Readme(r, figs, notes)
	if chaos, err := os.ReadFile(filepath.Join(docsDir, ChaosFile)); err == nil {
		readme = WithChaosSection(readme, string(chaos))
	}
	return writeAtomic(filepath.Join(docsDir, "README.md"), []byte(readme))
}

// ChaosFile is the chaos soak's summary in docs/bench/ (written by `make
// chaos`); the README ends with it.
const ChaosFile = "chaos.md"

// chaosHeading starts the README's chaos section, always its last.
const chaosHeading = "\n## Chaos soak\n"

// WithChaosSection returns readme with its chaos section (if any) replaced
// by chaosMD, the soak's summary less its title.
func WithChaosSection(readme, chaosMD string) string {
	if i := strings.Index(readme, chaosHeading); i >= 0 {
		readme = readme[:i]
	}
	body := strings.TrimSpace(chaosMD)
	if strings.HasPrefix(body, "# ") {
		if _, rest, ok := strings.Cut(body, "\n"); ok {
			body = strings.TrimSpace(rest)
		} else {
			body = ""
		}
	}
	return strings.TrimRight(readme, "\n") + "\n" + chaosHeading + "\n" + body +
		"\n\nThe whole record, cycle by cycle: [chaos.md](chaos.md) and `bench/chaos.json`.\n"
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Readme renders docs/bench/README.md.
func Readme(r *Results, figs []Figure, notes string) string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Generated by `make bench` (`go run ./e2e/cmd/bench`) from `bench/results.json`; do not edit by hand.\n")
	b.WriteString("Every comparison is measured in the same run on the same harness hosts (Docker-in-Docker Debian hosts\n")
	b.WriteString("with OpenSSH and their own dockerd, Traefik v3.6.12); figures are medians with their spread over repeats.\n\n")
	fmt.Fprintf(&b, "Run: %s, %s wall time, commit `%s`, %d CPUs, Docker %s, %s, 1-minute load average at start %.1f.\n",
		r.Started.Format(time.RFC3339), (time.Duration(r.Seconds) * time.Second).String(), r.Machine.Commit, r.Machine.CPUs,
		r.Machine.DockerVersion, r.Machine.GoVersion, r.Machine.Load1)
	if r.Smoke {
		b.WriteString("\n**Smoke run (tiny counts): these numbers are not figures.**\n")
	}
	b.WriteString("\nReproduce: `make bench` (needs Docker and Go; the first run builds the harness images, several minutes).\n\n")

	b.WriteString("## Figures\n\n")
	for _, f := range figs {
		fmt.Fprintf(&b, "![%s](%s)\n\n%s.\n\n", esc(f.Caption), f.File, f.Caption)
	}

	b.WriteString("## All numbers\n\n| scenario | metric | median | p25..p75 | min..max | n | unit | target | met |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Scenarios {
		if s.Skipped {
			continue
		}
		if s.Error != "" {
			fmt.Fprintf(&b, "| %s | did not finish: %s | | | | | | | **no** |\n", s.Name, mdEsc(oneLine(s.Error, 160)))
		}
		for _, m := range s.Metrics {
			target, met := "", ""
			if m.Target != nil {
				target, met = m.Target.String(), "yes"
				if m.Met != nil && !*m.Met {
					met = "**no**"
				}
			}
			st := m.Stat
			fmt.Fprintf(&b, "| %s | %s | %s | %s..%s | %s..%s | %d | %s | %s | %s |\n", s.Name, mdEsc(m.Name), fmtNum(st.Median),
				fmtNum(st.P25), fmtNum(st.P75), fmtNum(st.Min), fmtNum(st.Max), st.N, m.Unit, mdEsc(target), met)
		}
	}
	var cases []LoadCase
	for _, s := range r.Scenarios {
		cases = append(cases, s.Load...)
	}
	if len(cases) > 0 {
		b.WriteString("\n### Load cases\n\n| case | operations | web hosts | achieved req/s | requests | fresh conns | non-2xx | errors | slow (failed) | p50 ms | p99 ms | max ms | loadgen cores | machine cores |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, c := range cases {
			fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %d | %d | %d | %d | %d (%d) | %s | %s | %s | %.2f | %.2f |\n", c.Case, c.Operations, c.Hosts, c.Achieved,
				c.Requests, c.Fresh, c.Non2xx, c.Errors, c.Slow, c.SlowFailed, fmtNum(c.P50ms), fmtNum(c.P99ms), fmtNum(c.MaxMs), c.LoadgenCores, c.MachineCores)
		}
		for _, c := range cases {
			if len(c.FirstErrors) > 0 {
				fmt.Fprintf(&b, "\nFirst failures in *%s*: %s.\n", c.Case, mdEsc(strings.Join(c.FirstErrors, "; ")))
			}
		}
	}
	for _, s := range r.Scenarios {
		if len(s.Phases) > 0 {
			fmt.Fprintf(&b, "\n### %s: phases of the median run\n\n| phase | seconds |\n|---|---|\n", s.Name)
			for _, p := range s.Phases {
				fmt.Fprintf(&b, "| %s | %.2f |\n", mdEsc(p.Name), p.Seconds)
			}
		}
	}
	b.WriteString("\n## How each scenario measures\n\n")
	for _, s := range r.Scenarios {
		if s.Skipped {
			continue
		}
		fmt.Fprintf(&b, "- **%s** (%s, %.0f s)", s.Name, s.Title, s.Seconds)
		if len(s.Notes) > 0 {
			b.WriteString(": " + mdEsc(strings.Join(s.Notes, "; ")))
		}
		b.WriteString(".\n")
	}
	b.WriteString("\n## Targets missed in this run\n\n")
	missed := r.Missed()
	if len(missed) == 0 {
		b.WriteString("None.\n")
	}
	for _, m := range missed {
		fmt.Fprintf(&b, "- %s\n", mdEsc(m))
	}
	if strings.TrimSpace(notes) != "" {
		b.WriteString("\n## Closing note\n\n")
		b.WriteString(strings.TrimSpace(notes) + "\n")
	}
	return b.String()
}

func mdEsc(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

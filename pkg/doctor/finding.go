// Package doctor checks an app against production deployment practice: its
// config/deploy.yml, Dockerfile, entrypoint, Rails settings, git's tracked
// files and, when it exists locally, the built image. Each check has a stable
// ID; findings name the file and line they come from and how to fix them, and
// never carry a secret value (they name the key instead).
package doctor

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Severity ranks a finding. Any Error makes doctor exit non-zero.
type Severity string

// Severities, most severe first.
const (
	Error Severity = "error"
	Warn  Severity = "warn"
	Info  Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warn:
		return 1
	}
	return 2
}

// Finding is one problem (or note) found by a check.
type Finding struct {
	// Severity is error, warn or info.
	Severity Severity `json:"severity"`
	// Check is the stable ID of the check that found it, e.g. "health-route".
	Check string `json:"check"`
	// File is relative to the app root ("config/deploy.yml"), or an image
	// reference for findings about the built image; empty when none applies.
	File string `json:"file,omitempty"`
	// Line is 1-based; 0 when the finding is about a file as a whole.
	Line int `json:"line,omitempty"`
	// Message says what is wrong. It names keys, never secret values.
	Message string `json:"message"`
	// Fix says what to do about it.
	Fix string `json:"fix,omitempty"`
}

// Location renders file:line ("-" when there is no file).
func (f Finding) Location() string {
	switch {
	case f.File == "":
		return "-"
	case f.Line > 0:
		return f.File + ":" + strconv.Itoa(f.Line)
	}
	return f.File
}

// String is the human one-line form: severity, check, location, message, fix.
func (f Finding) String() string {
	s := fmt.Sprintf("%-5s %s %s %s", f.Severity, f.Check, f.Location(), f.Message)
	if f.Fix != "" {
		s += " (fix: " + f.Fix + ")"
	}
	return s
}

// Sort orders findings: most severe first, then by file, line and check.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Severity.rank(), b.Severity.rank()),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Report is the result of a doctor run.
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
}

// Summary counts findings by severity.
type Summary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// NewReport sorts fs, counts them and scrubs every given secret value out of
// every text field (a last line of defence: checks already name keys only).
func NewReport(fs []Finding, secrets []string) Report {
	r := Report{Findings: append([]Finding{}, fs...)}
	s := newScrubber(secrets)
	for i := range r.Findings {
		f := &r.Findings[i]
		f.File, f.Message, f.Fix = s.scrub(f.File), s.scrub(f.Message), s.scrub(f.Fix)
		switch f.Severity {
		case Error:
			r.Summary.Errors++
		case Warn:
			r.Summary.Warnings++
		default:
			r.Summary.Infos++
		}
	}
	Sort(r.Findings)
	return r
}

// OK reports whether there is no error finding.
func (r Report) OK() bool { return r.Summary.Errors == 0 }

// WriteText writes one finding per line.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SummaryLine is e.g. "1 error, 2 warnings, 0 infos".
func (r Report) SummaryLine() string {
	plural := func(n int, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return strconv.Itoa(n) + " " + word + "s"
	}
	return plural(r.Summary.Errors, "error") + ", " + plural(r.Summary.Warnings, "warning") + ", " + plural(r.Summary.Infos, "info")
}

// WriteJSON writes the report as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// scrubber replaces secret values with a marker.
type scrubber struct{ values []string }

// minSecretLen keeps scrubbing from mangling text over trivially short
// values ("1", "on").
const minSecretLen = 4

func newScrubber(values []string) scrubber {
	var vs []string
	for _, v := range values {
		if len(v) >= minSecretLen {
			vs = append(vs, v)
		}
	}
	// Longest first, so a value that contains another is replaced whole.
	slices.SortFunc(vs, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return scrubber{values: vs}
}

func (s scrubber) scrub(text string) string {
	for _, v := range s.values {
		text = strings.ReplaceAll(text, v, "[REDACTED]")
	}
	return text
}

// Package output prints what the plugin does: per-host, per-step lines with
// timings at the default level, the underlying operations with -v, and only
// errors with -q. Everything printed goes through a Redactor so a secret
// value that slipped into an error message is never shown.
package output

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Level is how much is printed.
type Level int

const (
	Quiet Level = iota
	Normal
	Verbose
)

// minSecretLen keeps very short values, which would mask unrelated text
// and reveal little, from being masked.
const minSecretLen = 4

// Redactor masks known secret values in text.
type Redactor struct {
	secrets []string // longest first, so a value inside another goes too
}

// NewRedactor masks secrets (those of at least four bytes).
func NewRedactor(secrets []string) Redactor {
	var s []string
	for _, v := range secrets {
		if len(v) >= minSecretLen {
			s = append(s, v)
		}
	}
	sort.SliceStable(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	return Redactor{secrets: s}
}

// Redact masks every known secret value in s.
func (r Redactor) Redact(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, contract.Redacted)
	}
	return s
}

// Printer is safe for concurrent use by per-host goroutines.
type Printer struct {
	Redactor
	mu    sync.Mutex
	out   io.Writer
	err   io.Writer
	level Level
	start time.Time
}

// New returns a printer. secrets are values to mask in anything printed.
func New(out, errw io.Writer, level Level, secrets []string) *Printer {
	return &Printer{Redactor: NewRedactor(secrets), out: out, err: errw, level: level, start: time.Now()}
}

func (p *Printer) write(w io.Writer, min Level, format string, args ...any) {
	if p == nil || p.level < min {
		return
	}
	line := p.Redact(fmt.Sprintf(format, args...))
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = fmt.Fprintln(w, line) // a terminal that fails a write has nowhere to report it
}

// Step prints a phase line: "  INFO [h1] deploy web: done (1.2s)".
func (p *Printer) Step(host, what, status string, d time.Duration) {
	prefix := ""
	if host != "" {
		prefix = "[" + host + "] "
	}
	if d > 0 {
		p.write(p.out, Normal, "  %s%s: %s (%s)", prefix, what, status, round(d))
		return
	}
	p.write(p.out, Normal, "  %s%s: %s", prefix, what, status)
}

// Phase prints a top-level phase header.
func (p *Printer) Phase(format string, args ...any) {
	p.write(p.out, Normal, "%s", fmt.Sprintf(format, args...))
}

// Verbose prints an underlying operation (-v only).
func (p *Printer) Verbose(format string, args ...any) {
	p.write(p.out, Verbose, "    "+format, args...)
}

// Error prints an error; shown at every level.
func (p *Printer) Error(format string, args ...any) {
	p.write(p.err, Quiet, format, args...)
}

// Warn prints a warning line ("WARN ...") on stderr; shown at every level.
func (p *Printer) Warn(format string, args ...any) {
	p.write(p.err, Quiet, "WARN "+format, args...)
}

// Summary prints the final result line.
func (p *Printer) Summary(format string, args ...any) {
	p.write(p.out, Normal, "%s", fmt.Sprintf(format, args...))
}

// Elapsed is the time since the printer was created (the command start).
func (p *Printer) Elapsed() time.Duration { return time.Since(p.start) }

// LastLines is the last n lines of a command's output, trimmed: the part
// of it an error message quotes.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

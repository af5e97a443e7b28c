// Package output prints what the plugin does: per-host, per-step lines with
// timings at the default level, the underlying operations with -v, and only
// errors with -q. Everything printed goes through a Redactor so a secret
// value that slipped into an error message is never shown.
package output

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Level is how much is printed.
type Level int

const (
	Quiet Level = iota
	Normal
	Verbose
)

// Printer is safe for concurrent use by per-host goroutines.
type Printer struct {
	mu      sync.Mutex
	out     io.Writer
	err     io.Writer
	level   Level
	secrets []string
	start   time.Time
}

// New returns a printer. secrets are values to mask in anything printed.
func New(out, errw io.Writer, level Level, secrets []string) *Printer {
	var s []string
	for _, v := range secrets {
		// Very short values would mask unrelated text and reveal little.
		if len(v) >= 4 {
			s = append(s, v)
		}
	}
	return &Printer{out: out, err: errw, level: level, secrets: s, start: time.Now()}
}

// Redact masks every known secret value in s.
func (p *Printer) Redact(s string) string {
	for _, v := range p.secrets {
		s = strings.ReplaceAll(s, v, "[REDACTED]")
	}
	return s
}

func (p *Printer) write(w io.Writer, min Level, format string, args ...any) {
	if p == nil || p.level < min {
		return
	}
	line := p.Redact(fmt.Sprintf(format, args...))
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(w, line)
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

// Summary prints the final result line.
func (p *Printer) Summary(format string, args ...any) {
	p.write(p.out, Normal, "%s", fmt.Sprintf(format, args...))
}

// Elapsed is the time since the printer was created (the command start).
func (p *Printer) Elapsed() time.Duration { return time.Since(p.start) }

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

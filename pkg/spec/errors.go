package spec

// Config errors: located in a file, at a line and key.

import (
	"errors"
	"strconv"
	"strings"
)

// Error is a config error located in a file.
type Error struct {
	// File is the config file as the user named it (e.g. config/deploy.yml).
	File string
	// Line is 1-based; 0 when unknown.
	Line int
	// Key is the dotted key path, e.g. "servers.web.hosts".
	Key string
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrDestinationRequired is returned (wrapped in an *Error) when the config
// sets require_destination and no destination was given.
var ErrDestinationRequired = errors.New("a destination is required (use -d)")

// destError lets errors.Is(err, ErrDestinationRequired) work.
type destError struct{ err *Error }

func (e *destError) Error() string   { return e.err.Error() }
func (e *destError) Unwrap() []error { return []error{e.err, ErrDestinationRequired} }

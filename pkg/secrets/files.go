package secrets

// Reading the secrets files: which exist, in which order, and how a file
// that cannot be read is reported.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Defaults.
const (
	// DefaultCommandTimeout bounds each $(command) substitution.
	DefaultCommandTimeout = 60 * time.Second
	// MaxFileSize bounds a secrets file.
	MaxFileSize = 1 << 20
	// maxCommandOutput bounds what a substituted command may print.
	maxCommandOutput = 1 << 20
)

// Options are the outside world the parser may see.
type Options struct {
	// Lookup reads the process environment (fallback for $VAR).
	Lookup func(string) (string, bool)
	// Run runs a $(command) and returns its stdout. Default: `sh -c` in Dir
	// with Timeout.
	Run func(ctx context.Context, command string, env []string) (string, error)
	// Inline runs `kamal secrets ARGS...` (and bin/kamal) commands, which
	// never reach Run: default secretadapters.Inline, in this process.
	Inline func(ctx context.Context, args []string, env []string) (string, error)
	// Dir is the working directory of commands (the app root).
	Dir string
	// Timeout bounds each command; DefaultCommandTimeout when zero.
	Timeout time.Duration
	// SetEnv are variables the caller sets for the run (as Kamal sets
	// KAMAL_DESTINATION): they replace the process's in the environment of
	// commands, and an empty value removes the variable.
	SetEnv map[string]string
}

// Error locates a problem in a secrets file. It never carries a value.
type Error struct {
	// File is the secrets file as the config names it (.kamal/secrets).
	File string
	// Line is 1-based; 0 for the file as a whole.
	Line int
	// Msg says what is wrong.
	Msg string
	// Err is the cause, when there is one (reading the file, running a
	// command); its text is already in Msg.
	Err error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errIsDir refuses a secrets path that is a directory.
var errIsDir = errors.New("is a directory")

// LoadFiles reads files in order (missing ones are skipped, unreadable ones
// are errors); later files override earlier ones. It returns the merged
// values and the files that existed.
func LoadFiles(ctx context.Context, files []string, opts Options) (map[string]string, []string, error) {
	out := map[string]string{}
	var found []string
	for _, f := range files {
		path := f
		if opts.Dir != "" && !strings.HasPrefix(f, "/") {
			path = opts.Dir + "/" + f
		}
		data, err := readFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, &Error{File: f, Msg: "read secrets file: " + errText(err), Err: err}
		}
		found = append(found, f)
		vals, err := Parse(ctx, f, data, opts)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range vals {
			out[k] = v
		}
	}
	return out, found, nil
}

func readFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errIsDir
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	return os.ReadFile(path)
}

// errText strips the path from an *fs.PathError.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

package secretadapters

// Running a vendor CLI: a deadline on every call, stdout captured for the
// adapter to parse, stderr kept for the error (a failing CLI prints its
// reason there, never the secret).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Deadlines of vendor CLI calls. A login may wait for the user to type a
// password, so it gets longer.
var (
	CommandTimeout = time.Minute
	LoginTimeout   = 5 * time.Minute
)

// maxOutput bounds what a vendor CLI may print.
const maxOutput = 4 << 20

// CLIError is a vendor CLI call that failed. It carries the CLI's last
// stderr lines, never its stdout or arguments (which may hold a session).
type CLIError struct {
	// Tool is the executable (op, bw, ...); Step what was asked of it.
	Tool, Step string
	// Stderr is the tail of what the CLI printed on stderr.
	Stderr string
	Err    error
}

func (e *CLIError) Error() string {
	s := fmt.Sprintf("%s %s: %v", e.Tool, e.Step, e.Err)
	if e.Stderr != "" {
		s += ": " + e.Stderr
	}
	return s
}

// Unwrap returns the cause (an *exec.ExitError, a deadline).
func (e *CLIError) Unwrap() error { return e.Err }

// tool runs one vendor CLI.
type tool struct {
	bin   string   // executable name looked up on PATH
	label string   // vendor name for messages ("1Password")
	env   []string // nil: ours
}

// with returns t with extra environment variables.
func (t tool) with(kv ...string) tool {
	base := t.env
	if base == nil {
		base = os.Environ()
	}
	t.env = append(append([]string{}, base...), kv...)
	return t
}

// installed checks the CLI runs at all, as Kamal's check_dependencies!.
func (t tool) installed(ctx context.Context, versionArgs ...string) error {
	if len(versionArgs) == 0 {
		versionArgs = []string{"--version"}
	}
	if _, err := exec.LookPath(t.bin); err != nil {
		return fmt.Errorf("%s %w (%s not on PATH)", t.label, ErrNotInstalled, t.bin)
	}
	if _, err := t.run(ctx, CommandTimeout, false, versionArgs...); err != nil {
		return fmt.Errorf("%s %w: %w", t.label, ErrNotInstalled, err)
	}
	return nil
}

// output runs the CLI and returns its stdout.
func (t tool) output(ctx context.Context, args ...string) ([]byte, error) {
	return t.run(ctx, CommandTimeout, false, args...)
}

// succeeds reports whether the CLI exits 0 (login checks).
func (t tool) succeeds(ctx context.Context, args ...string) bool {
	_, err := t.run(ctx, CommandTimeout, false, args...)
	return err == nil
}

// login runs an interactive login: the terminal is the CLI's stdin and
// stderr, so its prompts reach the user; stdout (a session token) is
// returned.
func (t tool) login(ctx context.Context, args ...string) ([]byte, error) {
	return t.run(ctx, LoginTimeout, true, args...)
}

func (t tool) run(ctx context.Context, timeout time.Duration, interactive bool, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := exec.CommandContext(ctx, t.bin, args...)
	c.Env = t.env
	c.WaitDelay = 2 * time.Second
	var out, errb capped
	c.Stdout = &out
	c.Stderr = &errb
	if interactive {
		c.Stdin = os.Stdin
		c.Stderr = os.Stderr
	}
	step := strings.Join(stepWords(args), " ")
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s: %w", timeout, ctx.Err())
		}
		return nil, &CLIError{Tool: t.bin, Step: step, Stderr: tail(errb.String()), Err: err}
	}
	if out.over {
		return nil, &CLIError{Tool: t.bin, Step: step, Err: fmt.Errorf("output larger than %d bytes", maxOutput)}
	}
	return out.Bytes(), nil
}

// stepWords are the leading subcommand words of args (no flags, no item
// names past the first two words), naming the call in errors.
func stepWords(args []string) []string {
	var w []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") || len(w) == 2 {
			break
		}
		w = append(w, a)
	}
	return w
}

// tail is the last lines of a CLI's stderr, bounded.
func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	t := strings.TrimSpace(strings.Join(lines, " / "))
	if len(t) > 400 {
		t = t[len(t)-400:]
	}
	return t
}

type capped struct {
	bytes.Buffer
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if c.Len()+len(p) > maxOutput {
		c.over = true
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

// isExit reports a CLI that ran and exited non-zero (not a deadline or a
// missing binary).
func isExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// notFound marks err ErrNotFound when the vendor CLI said so in one of
// its documented phrases: its only way of telling a missing item from a
// failed call.
func notFound(err error, phrases ...string) error {
	return vendorSaid(err, ErrNotFound, phrases...)
}

// vendorSaid wraps err in sentinel when the CLI ran, failed, and its
// stderr holds one of phrases.
func vendorSaid(err, sentinel error, phrases ...string) error {
	var ce *CLIError
	if !errors.As(err, &ce) || !isExit(ce.Err) {
		return err
	}
	low := strings.ToLower(ce.Stderr)
	for _, p := range phrases {
		if strings.Contains(low, strings.ToLower(p)) {
			return fmt.Errorf("%w: %w", sentinel, err)
		}
	}
	return err
}

// Package hooks runs Kamal's hook scripts (.kamal/hooks/<name>) with the
// KAMAL_* environment Kamal gives them, so existing hooks keep working.
package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/output"
)

// DefaultTimeout bounds one hook run.
const DefaultTimeout = 10 * time.Minute

// Env is the information Kamal exports to hooks (Kamal's Tags plus the
// details of run_hook).
type Env struct {
	Service     string
	Version     string
	Hosts       []string
	Roles       []string // only when --roles selected them, as in Kamal
	Performer   string
	Destination string
	Command     string
	Subcommand  string
	// Lock is "true" when the command holds the deploy lock, "false" when
	// not, "" to leave KAMAL_LOCK out.
	Lock    string
	Runtime time.Duration // set for post-deploy
	// Secrets are exported too for pre-connect, pre-deploy and post-deploy,
	// as Kamal does (run_hook secrets: true). Never printed.
	Secrets map[string]string
}

// Vars renders Env as the hook's variables: the secrets, then the KAMAL_*
// variables that are set (Kamal compacts away the unset ones).
func (e Env) Vars() []string {
	var v []string
	for k, val := range e.Secrets {
		v = append(v, k+"="+val)
	}
	add := func(name, val string) {
		if val != "" {
			v = append(v, "KAMAL_"+name+"="+val)
		}
	}
	add("RECORDED_AT", time.Now().UTC().Format(time.RFC3339))
	add("PERFORMER", e.Performer)
	add("SERVICE", e.Service)
	add("VERSION", e.Version)
	add("SERVICE_VERSION", serviceVersion(e.Service, e.Version))
	add("DESTINATION", e.Destination)
	add("HOSTS", strings.Join(e.Hosts, ","))
	add("ROLES", strings.Join(e.Roles, ","))
	add("LOCK", e.Lock)
	add("COMMAND", e.Command)
	add("SUBCOMMAND", e.Subcommand)
	if e.Runtime > 0 {
		add("RUNTIME", strconv.Itoa(int(e.Runtime.Round(time.Second).Seconds())))
	}
	sort.Strings(v)
	return v
}

// serviceVersion is Kamal's service@abbreviated-version: the first 7
// characters of a version, unless it holds an underscore (an
// <sha>_uncommitted_<random> version is kept whole).
func serviceVersion(service, version string) string {
	if version == "" {
		return service
	}
	if !strings.Contains(version, "_") && len(version) > 7 {
		version = version[:7]
	}
	return service + "@" + version
}

// Runner runs hooks from one directory.
type Runner struct {
	Dir     string // e.g. ".kamal/hooks"
	Skip    bool   // -H/--skip-hooks
	Stdout  io.Writer
	Stderr  io.Writer
	Timeout time.Duration
	// WorkDir is the hook's working directory; "" for ours.
	WorkDir string
	// Quiet reports whether hook name's output is hidden (captured only,
	// still shown when it fails); nil shows every hook's.
	Quiet func(name string) bool
}

// ErrNotExecutable is a hook file that exists but may not be run: the
// user meant it to run, so it is an error, not a skip.
var ErrNotExecutable = errors.New("is not executable")

// HookError is returned when a hook exits non-zero; it aborts the command.
type HookError struct {
	Name   string
	Code   int
	Output string
}

func (e *HookError) Error() string {
	msg := fmt.Sprintf("hook %s failed with exit code %d", e.Name, e.Code)
	if out := strings.TrimSpace(e.Output); out != "" {
		msg += ":\n" + out
	}
	return msg
}

// Run executes hook name if it exists and is executable. A missing hook is
// not an error; a hook that exists but is not executable is, since the user
// clearly meant it to run.
func (r *Runner) Run(ctx context.Context, name string, env Env) (ran bool, err error) {
	if r.Skip {
		return false, nil
	}
	path := filepath.Join(r.Dir, name)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("hook %s: %w", name, err)
	}
	if st.Mode()&0o111 == 0 {
		return false, fmt.Errorf("hook %s: %s %w (chmod +x it or remove it)", name, path, ErrNotExecutable)
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	abs, err := filepath.Abs(path)
	if err != nil {
		return false, fmt.Errorf("hook %s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, abs)
	cmd.Env = append(os.Environ(), env.Vars()...)
	// Kamal runs hooks from the app directory (where .kamal/ is).
	cmd.Dir = r.WorkDir
	var captured bytes.Buffer
	stdout, stderr := r.Stdout, r.Stderr
	if r.Quiet != nil && r.Quiet(name) {
		stdout, stderr = nil, nil
	}
	cmd.Stdout, cmd.Stderr = tee(stdout, &captured), tee(stderr, &captured)
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return true, &HookError{Name: name, Code: ee.ExitCode(), Output: output.LastLines(captured.String(), 20)}
	}
	if err != nil {
		return true, fmt.Errorf("hook %s: %w", name, err)
	}
	return true, nil
}

// tee is w and captured, or captured alone when w is nil.
func tee(w io.Writer, captured io.Writer) io.Writer {
	if w == nil {
		return captured
	}
	return io.MultiWriter(w, captured)
}

package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// ErrDockerUnreachable is returned (wrapped) when the machine's Docker daemon
// does not answer. The e2e tests need one: .ci/run starts it.
var ErrDockerUnreachable = errors.New("docker daemon unreachable")

// docker runs the docker CLI on the machine and returns its trimmed stdout.
// The error carries the arguments and stderr.
func docker(ctx context.Context, args ...string) (string, error) {
	return dockerIn(ctx, nil, args...)
}

// dockerIn is docker with stdin.
func dockerIn(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), &CommandError{Args: append([]string{"docker"}, args...), Stderr: stderr.String(), Stdout: stdout.String(), Err: err}
	}
	return strings.TrimSpace(stdout.String()), nil
}

// CommandError is a failed command with its output.
type CommandError struct {
	Args   []string
	Stdout string
	Stderr string
	Err    error
}

func (e *CommandError) Error() string {
	args := strings.Join(e.Args, " ")
	if len(args) > 200 {
		args = args[:200] + "..."
	}
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = strings.TrimSpace(e.Stdout)
	}
	if len(msg) > 2000 {
		msg = "..." + msg[len(msg)-2000:]
	}
	return fmt.Sprintf("%s: %v: %s", args, e.Err, msg)
}

func (e *CommandError) Unwrap() error { return e.Err }

// CheckDocker returns an error wrapping ErrDockerUnreachable when the
// machine's Docker daemon does not answer within 15 seconds.
func CheckDocker(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("%w: docker CLI not found in PATH (install Debian's docker.io)", ErrDockerUnreachable)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := docker(ctx, "version", "--format", "{{.Server.Version}}"); err != nil {
		return fmt.Errorf("%w (the e2e tests need a running dockerd; .ci/run starts one): %v", ErrDockerUnreachable, err)
	}
	return nil
}

// imageExists reports whether ref names an image on the machine's daemon.
func imageExists(ctx context.Context, ref string) (bool, error) {
	out, err := docker(ctx, "image", "ls", "-q", "--no-trunc", ref)
	if err != nil {
		return false, fmt.Errorf("look up image %s: %w", ref, err)
	}
	return out != "", nil
}

// ImageID returns the image ID (sha256:...) of ref on the machine's daemon.
func ImageID(ctx context.Context, ref string) (string, error) {
	id, err := docker(ctx, "image", "inspect", "--format", "{{.Id}}", ref)
	if err != nil {
		return "", fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return id, nil
}

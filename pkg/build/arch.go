package build

// Architectures: of an engine (docker info), of an image, and the refusal
// to ship an image to a host of another architecture.

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// NormalizeArch maps an architecture as engines and images name it
// (x86_64, aarch64, amd64, arm64, ...) onto Go's names, which --platform
// and builder.arch use.
func NormalizeArch(a string) string {
	switch a = strings.ToLower(strings.TrimSpace(a)); a {
	case "x86_64", "x86-64", "amd64":
		return "amd64"
	case "aarch64", "arm64", "arm64/v8", "armv8":
		return "arm64"
	case "armv7l", "armhf", "arm":
		return "arm"
	}
	return a
}

// Platform is builder.arch as --platform takes it.
func Platform(arch string) string {
	if arch == "" {
		return ""
	}
	return "linux/" + NormalizeArch(arch)
}

// ErrArchMismatch is what an *ArchMismatchError is.
var ErrArchMismatch = errors.New("image architecture differs from the host's")

// ArchMismatchError is an image built for another architecture than a
// host it would run on.
type ArchMismatchError struct {
	Host      string
	HostArch  string
	Image     string
	ImageArch string
}

func (e *ArchMismatchError) Error() string {
	return fmt.Sprintf("%s is built for %s but host %s runs %s: it would not start there; "+
		"set builder.arch: %s (with builder.remote: ssh://user@host of a %s machine when this one is not)",
		e.Image, e.ImageArch, e.Host, e.HostArch, e.HostArch, e.HostArch)
}

// Unwrap makes errors.Is(err, ErrArchMismatch) work.
func (e *ArchMismatchError) Unwrap() error { return ErrArchMismatch }

// ImageArch is ref's architecture in the engine of dockerFlags,
// normalised.
func ImageArch(ctx context.Context, dockerFlags []string, ref string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	args := append(append([]string{}, dockerFlags...), "image", "inspect", "--format", "{{.Architecture}}", ref)
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			// Cut short (Ctrl-C, the timeout): say so, not "signal: killed".
			return "", fmt.Errorf("inspect architecture of %s: %w", ref, cerr)
		}
		return "", fmt.Errorf("inspect architecture of %s: %v: %s", ref, err, strings.TrimSpace(string(out)))
	}
	return NormalizeArch(string(out)), nil
}

// EngineArch is the architecture of the engine of dockerFlags, normalised.
func EngineArch(ctx context.Context, dockerFlags []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	args := append(append([]string{}, dockerFlags...), "info", "--format", "{{.Architecture}}")
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("read the docker engine's architecture: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return NormalizeArch(string(out)), nil
}

// CheckArch returns an *ArchMismatchError when imageArch differs from
// hostArch (both as engines report them).
func CheckArch(host, hostArch, image, imageArch string) error {
	h, i := NormalizeArch(hostArch), NormalizeArch(imageArch)
	if h == "" || i == "" || h == i {
		return nil
	}
	return &ArchMismatchError{Host: host, HostArch: h, Image: image, ImageArch: i}
}

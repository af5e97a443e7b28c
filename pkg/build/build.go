// Package build builds the app image with BuildKit (docker buildx, docker
// driver: the engine's own BuildKit), from a clean clone of HEAD as Kamal
// does, and works out the version to deploy the way Kamal does (git SHA,
// with a suffix when the tree is dirty).
package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/output"
)

// Timeouts for the local commands this package runs.
const (
	gitTimeout     = 30 * time.Second
	inspectTimeout = 30 * time.Second
)

// Version returns the git SHA of dir's HEAD, or `<sha>_uncommitted_<hash>`
// when the work tree has changes (hash of the diff, so the same dirty tree
// gets the same version twice).
func Version(ctx context.Context, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	sha, err := git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return "", fmt.Errorf("determine version (pass --version to set one): %w", err)
	}
	status, err := git(ctx, dir, "status", "--porcelain", "--untracked-files=normal")
	if err != nil {
		return "", fmt.Errorf("determine version: %w", err)
	}
	if status == "" {
		return sha, nil
	}
	diff, err := git(ctx, dir, "diff", "HEAD")
	if err != nil {
		return "", fmt.Errorf("determine version: %w", err)
	}
	h := sha256.Sum256([]byte(status + "\x00" + diff))
	return sha + "_uncommitted_" + hex.EncodeToString(h[:8]), nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Options describe one `docker buildx build`.
type Options struct {
	DockerFlags []string // global docker flags (--context, -H) from the plugin invocation
	Context     string   // build context directory
	Dockerfile  string   // relative to Context unless absolute; empty = Dockerfile
	Target      string
	BuildArgs   map[string]string
	// Secrets are build secrets by id. Their values reach buildx through
	// its environment (--secret id=X,env=...), never its command line.
	Secrets map[string]string
	// SSH is builder.ssh: --ssh's value (e.g. "default=$SSH_AUTH_SOCK").
	SSH string
	// Platform is --platform (linux/amd64); empty builds for the engine's own.
	Platform string
	NoCache  bool
	// CacheFrom and CacheTo are --cache-from and --cache-to values.
	CacheFrom  []string
	CacheTo    []string
	Provenance string // "false" or empty
	SBOM       string // "false" or empty
	Tags       []string
	Labels     map[string]string
	Stdout     io.Writer
	Stderr     io.Writer
}

// SecretEnv is the environment variable that carries build secret id to
// buildx.
func SecretEnv(id string) string { return "KAMAL_BUILD_SECRET_" + id }

// Args renders the docker CLI arguments, sorted for stable output.
func (o Options) Args() []string {
	args := append([]string{}, o.DockerFlags...)
	args = append(args, "buildx", "build", "--progress", "plain", "--load")
	for _, t := range o.Tags {
		args = append(args, "-t", t)
	}
	args = appendIf(args, "--platform", o.Platform)
	args = appendIf(args, "-f", o.Dockerfile)
	args = appendIf(args, "--target", o.Target)
	for _, k := range slices.Sorted(maps.Keys(o.Labels)) {
		args = append(args, "--label", k+"="+o.Labels[k])
	}
	for _, k := range slices.Sorted(maps.Keys(o.BuildArgs)) {
		args = append(args, "--build-arg", k+"="+o.BuildArgs[k])
	}
	for _, id := range slices.Sorted(maps.Keys(o.Secrets)) {
		args = append(args, "--secret", "id="+id+",env="+SecretEnv(id))
	}
	args = appendIf(args, "--ssh", o.SSH)
	for _, c := range o.CacheFrom {
		args = append(args, "--cache-from", c)
	}
	for _, c := range o.CacheTo {
		args = append(args, "--cache-to", c)
	}
	if o.Provenance != "" {
		args = append(args, "--provenance="+o.Provenance)
	}
	if o.SBOM != "" {
		args = append(args, "--sbom="+o.SBOM)
	}
	if o.NoCache {
		args = append(args, "--no-cache")
	}
	ctxDir := o.Context
	if ctxDir == "" {
		ctxDir = "."
	}
	return append(args, ctxDir)
}

func appendIf(args []string, flag, v string) []string {
	if v == "" {
		return args
	}
	return append(args, flag, v)
}

// env is the docker CLI's environment for the build: ours and the secret
// values.
func (o Options) env() []string {
	env := os.Environ()
	for id, v := range o.Secrets {
		env = append(env, SecretEnv(id)+"="+v)
	}
	return env
}

// ErrNoBuildx is returned when the docker CLI has no buildx plugin.
var ErrNoBuildx = errors.New("docker buildx is not installed: docker kamal builds with BuildKit through the buildx CLI plugin " +
	"(run scripts/install-buildx.sh, or install Debian's docker-buildx package)")

// CheckBuildx returns ErrNoBuildx unless `docker buildx` runs.
func CheckBuildx(ctx context.Context, dockerFlags []string) error {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	args := append(append([]string{}, dockerFlags...), "buildx", "version")
	if out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("check docker buildx: %w", ctx.Err())
		}
		return fmt.Errorf("%w (docker buildx version: %s)", ErrNoBuildx, strings.TrimSpace(string(out)))
	}
	return nil
}

// Build runs docker buildx build (BuildKit, the engine's own through the
// docker driver) and returns the built image's ID.
func Build(ctx context.Context, o Options) (string, error) {
	if len(o.Tags) == 0 {
		return "", fmt.Errorf("build image: no tag given")
	}
	if err := CheckBuildx(ctx, o.DockerFlags); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "docker", o.Args()...)
	cmd.Env = o.env()
	var errb bytes.Buffer
	cmd.Stdout = o.Stdout // nil: discarded
	cmd.Stderr = &errb
	if o.Stderr != nil {
		cmd.Stderr = io.MultiWriter(o.Stderr, &errb)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build image %s: %w: %s", o.Tags[0], err, output.LastLines(errb.String(), 15))
	}
	return ImageID(ctx, o.DockerFlags, o.Tags[0])
}

// ImageID returns the local image ID of ref.
func ImageID(ctx context.Context, dockerFlags []string, ref string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	args := append(append([]string{}, dockerFlags...), "image", "inspect", "--format", "{{.Id}}", ref)
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("inspect image %s: %v: %s", ref, err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// ImageExists reports whether the local engine has ref.
func ImageExists(ctx context.Context, dockerFlags []string, ref string) bool {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	args := append(append([]string{}, dockerFlags...), "image", "inspect", ref)
	return exec.CommandContext(ctx, "docker", args...).Run() == nil
}

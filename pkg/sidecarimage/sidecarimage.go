// Package sidecarimage builds the kamal-sidecar image on the user's machine
// from the kamal-sidecar binary installed beside the plugin, so hosts need
// no registry: the image is then shipped like any other.
package sidecarimage

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/build"
)

// EnvBinary overrides where the kamal-sidecar binary is found.
const EnvBinary = "DOCKER_KAMAL_SIDECAR_BINARY"

// Repository is the sidecar image's repository; the tag is its version.
const Repository = "kamal-sidecar"

const buildTimeout = 5 * time.Minute

// Binary finds the kamal-sidecar binary: $DOCKER_KAMAL_SIDECAR_BINARY, then
// next to the running plugin (install.sh puts it there), then ./bin.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		return p, nil
	}
	var tried []string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		p := filepath.Join(filepath.Dir(exe), "kamal-sidecar")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		tried = append(tried, p)
	}
	if st, err := os.Stat("bin/kamal-sidecar"); err == nil && !st.IsDir() {
		return filepath.Abs("bin/kamal-sidecar")
	}
	tried = append(tried, "bin/kamal-sidecar")
	return "", fmt.Errorf("find kamal-sidecar binary: not at %s; reinstall with ./install.sh or set %s", strings.Join(tried, ", "), EnvBinary)
}

// Version asks the binary for its version.
func Version(ctx context.Context, binary string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("ask %s for its version: %w", binary, err)
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", fmt.Errorf("ask %s for its version: empty answer", binary)
	}
	return sanitizeTag(v), nil
}

// sanitizeTag makes a version usable as a docker tag.
func sanitizeTag(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	s := b.String()
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

// Ensure returns the local sidecar image reference and its version,
// building it from the binary when the local engine lacks it.
func Ensure(ctx context.Context, dockerFlags []string) (ref, version string, err error) {
	bin, err := Binary()
	if err != nil {
		return "", "", err
	}
	version, err = Version(ctx, bin)
	if err != nil {
		return "", "", err
	}
	ref = Repository + ":" + version
	if build.ImageExists(ctx, dockerFlags, ref) {
		return ref, version, nil
	}
	return ref, version, Build(ctx, dockerFlags, bin, ref)
}

// Build makes a FROM scratch image holding only the static binary.
func Build(ctx context.Context, dockerFlags []string, binary, ref string) error {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	buildCtx, err := contextTar(binary)
	if err != nil {
		return err
	}
	args := append(append([]string{}, dockerFlags...), "build", "-q", "-t", ref, "-")
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = buildCtx
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build sidecar image %s: %v: %s", ref, err, strings.TrimSpace(string(out)))
	}
	return nil
}

const dockerfile = `FROM scratch
COPY kamal-sidecar /kamal-sidecar
ENTRYPOINT ["/kamal-sidecar"]
`

func contextTar(binary string) (io.Reader, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, fmt.Errorf("read sidecar binary: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"kamal-sidecar", 0o755, data}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

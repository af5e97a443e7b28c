package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Exec runs a command inside the host container (docker exec) and returns
// its trimmed stdout; the error carries stderr.
func (h *Host) Exec(ctx context.Context, args ...string) (string, error) {
	out, err := docker(ctx, append([]string{"exec", h.Container}, args...)...)
	if err != nil {
		return out, fmt.Errorf("exec on %s: %w", h.Name, err)
	}
	return out, nil
}

// ExecInput is Exec with stdin.
func (h *Host) ExecInput(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	out, err := dockerIn(ctx, stdin, append([]string{"exec", "-i", h.Container}, args...)...)
	if err != nil {
		return out, fmt.Errorf("exec on %s: %w", h.Name, err)
	}
	return out, nil
}

// Docker runs the docker CLI inside the host, against the host's dockerd.
func (h *Host) Docker(ctx context.Context, args ...string) (string, error) {
	return h.Exec(ctx, append([]string{"docker"}, args...)...)
}

// HasImage reports whether the host's dockerd has ref.
func (h *Host) HasImage(ctx context.Context, ref string) (bool, error) {
	out, err := h.Docker(ctx, "image", "ls", "-q", ref)
	if err != nil {
		return false, err
	}
	return out != "", nil
}

// LoadImage copies an image from the machine's daemon into the host's
// (docker save | docker exec -i HOST docker load). For harness setup only:
// the product ships images its own way.
func (h *Host) LoadImage(ctx context.Context, ref string) error {
	archive, cleanup, err := saveImage(ctx, ref)
	if err != nil {
		return err
	}
	defer cleanup()
	return h.loadArchive(ctx, ref, archive)
}

func (h *Host) loadArchive(ctx context.Context, ref, archive string) error {
	in, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("load %s into %s: %w", ref, h.Name, err)
	}
	defer in.Close()
	if _, err := h.ExecInput(ctx, in, "docker", "load", "-q"); err != nil {
		return fmt.Errorf("load %s into %s: %w", ref, h.Name, err)
	}
	return nil
}

// LoadImage loads each ref into every host, hosts in parallel.
func (f *Fleet) LoadImage(ctx context.Context, refs ...string) error {
	for _, ref := range refs {
		archive, cleanup, err := saveImage(ctx, ref)
		if err != nil {
			return err
		}
		err = f.each(func(h *Host) error { return h.loadArchive(ctx, ref, archive) })
		cleanup()
		if err != nil {
			return err
		}
	}
	return nil
}

// saveImage writes a `docker save` archive of ref to a temp file.
func saveImage(ctx context.Context, ref string) (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "kamal-e2e-save-")
	if err != nil {
		return "", nil, fmt.Errorf("save %s: %w", ref, err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, "image.tar")
	cmd := exec.CommandContext(ctx, "docker", "save", "-o", path, ref)
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("save %s: %w", ref, &CommandError{Args: cmd.Args, Stdout: string(out), Err: err})
	}
	return path, cleanup, nil
}

package imageship

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// localImage is one image as the local engine has it, and its saved archive.
type localImage struct {
	ref     string
	inspect sync.Once
	id      string
	layers  []string
	err     error

	save    sync.Once
	archive string
	index   *archiveIndex
	saveErr error

	payloadMu sync.Mutex
	payloads  map[int]*payload // by layers left out
}

// inspectLocal returns the local image's ID and layers, once per image.
func (s *Shipper) inspectLocal(ctx context.Context, image string) (*localImage, error) {
	s.mu.Lock()
	li, ok := s.images[image]
	if !ok {
		li = &localImage{ref: image}
		s.images[image] = li
	}
	s.mu.Unlock()
	li.inspect.Do(func() {
		out, err := s.docker(ctx, "image", "inspect", "--format", "{{json .Id}} {{json .RootFS.Layers}}", image)
		if err != nil {
			li.err = fmt.Errorf("inspect local image: %w", err)
			return
		}
		li.id, li.layers, li.err = parseInspectLine(strings.TrimSpace(string(out)))
		if li.err != nil {
			li.err = fmt.Errorf("inspect local image: %w", li.err)
		}
	})
	if li.err != nil {
		s.forgetOnCancel(image, li, li.err)
	}
	return li, li.err
}

// Prepare inspects image and saves it from the local engine ahead of a
// Ship, which then starts from the saved archive: the save (the slow part
// of shipping on the sending side) overlaps whatever the caller does
// meanwhile. Ship does the same itself when not prepared.
func (s *Shipper) Prepare(ctx context.Context, image string) error {
	li, err := s.inspectLocal(ctx, image)
	if err != nil {
		return err
	}
	return s.saveLocal(ctx, li)
}

// saveLocal runs `docker save` into a temp file and indexes it, once per image.
func (s *Shipper) saveLocal(ctx context.Context, li *localImage) error {
	li.save.Do(func() {
		li.archive, li.index, li.saveErr = s.saveArchive(ctx, li)
	})
	if li.saveErr != nil {
		s.forgetOnCancel(li.ref, li, li.saveErr)
	}
	return li.saveErr
}

// forgetOnCancel drops a cached failure caused by a cancelled context so a
// later call can try again.
func (s *Shipper) forgetOnCancel(image string, li *localImage, err error) {
	if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return
	}
	s.mu.Lock()
	if s.images[image] == li {
		delete(s.images, image)
	}
	s.mu.Unlock()
}

// saveArchive runs `docker save` for li into the work dir and indexes the
// archive, checking it holds the layers inspected.
func (s *Shipper) saveArchive(ctx context.Context, li *localImage) (string, *archiveIndex, error) {
	dir, err := s.workDir()
	if err != nil {
		return "", nil, fmt.Errorf("save image: %w", err)
	}
	f, err := os.CreateTemp(dir, "image-*.tar")
	if err != nil {
		return "", nil, fmt.Errorf("save image: %w", err)
	}
	name := f.Name()
	_ = f.Close() // empty: only its unique name is wanted, docker save writes it
	// Save by reference so the archive carries the tag for `docker load`;
	// the layers are checked against the inspected image below.
	if _, err := s.docker(ctx, "save", "-o", name, li.ref); err != nil {
		_ = os.Remove(name) // best effort: Close removes the work dir anyway
		return "", nil, fmt.Errorf("save image: %w", err)
	}
	f, err = os.Open(name)
	if err != nil {
		return "", nil, fmt.Errorf("save image: %w", err)
	}
	defer func() { _ = f.Close() }() // read only: indexArchive's error is the one that matters
	idx, err := indexArchive(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		_ = os.Remove(name) // best effort: Close removes the work dir anyway
		return "", nil, err
	}
	if strings.Join(idx.DiffIDs, ",") != strings.Join(li.layers, ",") {
		_ = os.Remove(name) // best effort: Close removes the work dir anyway
		return "", nil, fmt.Errorf("save image: %s changed while saving (layers differ from the inspected image)", li.ref)
	}
	return name, idx, nil
}

// workDir returns the directory of the saved archives, creating it on first
// use; Close removes it.
func (s *Shipper) workDir() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		dir, err := os.MkdirTemp(s.opts.TempDir, "kamal-ship-")
		if err != nil {
			return "", err
		}
		s.dir = dir
	}
	return s.dir, nil
}

// docker runs the local docker CLI with the user's global flags.
func (s *Shipper) docker(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.opts.Docker, append(append([]string(nil), s.opts.DockerFlags...), args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(string(lastBytes(stderr.Bytes(), stderrTail))))
	}
	return out, nil
}

// parseInspectLine parses `{{json .Id}} {{json .RootFS.Layers}}`.
func parseInspectLine(line string) (string, []string, error) {
	id, layers, _, err := parseHostLine(line + " null")
	return id, layers, err
}

// Package atomicfile replaces files so that a reader, or a process
// restarted at any moment, sees the old content or the new, never a mix.
// It is the one writer of the host side's state (the sidecar's journal,
// lock and maintenance state, Traefik's dynamic configuration).
//
// A write goes to a temporary file in the same directory, is synced,
// renamed over the target, and the directory is synced so the rename
// itself survives a power loss.
//
// A failed directory sync is an error that wraps ErrNotDurable: the new
// content is already in place and every reader sees it, but the disk did
// not confirm the rename, so it may be lost if the host loses power. It is
// not ignored, because an I/O error on the state directory is worth
// knowing about; callers that only need readers to see the content may
// test for it with errors.Is. A filesystem that cannot sync directories at
// all (EINVAL, ENOTSUP) is not an error: nothing more can be done there.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrNotDurable: the file holds its new content (or is gone, for Remove),
// but syncing its directory failed, so the change may not survive a power
// loss.
var ErrNotDurable = errors.New("change is visible but not confirmed on disk")

// WriteFile replaces path with data and mode perm. The directory must
// exist. The temporary file is hidden (".name.tmp-*") so that a watcher of
// the directory, such as Traefik's file provider, ignores it.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return writeVia(path, filepath.Dir(path), data, perm)
}

// WriteFileStaged is WriteFile with the temporary file in stage (created
// if missing), not in path's directory: a watcher that lists the directory
// and then watches each file it found, as Traefik's file provider does
// when it starts, fails on a temporary file renamed away in between, and
// Traefik's then never loads the directory (after a host reboot the
// sidecar's first route write raced Traefik's start: 404 for good). stage
// must be on path's filesystem; where it cannot be used the temporary file
// goes beside path, as with WriteFile.
func WriteFileStaged(path, stage string, data []byte, perm fs.FileMode) error {
	if err := os.MkdirAll(stage, 0o700); err != nil {
		return WriteFile(path, data, perm)
	}
	err := writeVia(path, stage, data, perm)
	if errors.Is(err, syscall.EXDEV) {
		return WriteFile(path, data, perm)
	}
	return err
}

// writeVia writes data to a temporary file in tmpDir and renames it to
// path.
func writeVia(path, tmpDir string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(tmpDir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	if err := fill(f, data, perm); err != nil {
		_ = os.Remove(tmp) // the target is untouched; a leftover temp file is only clutter
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp) // as above
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// fill writes data to f, sets its mode, syncs and closes it.
func fill(f *os.File, data []byte, perm fs.FileMode) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Remove deletes path and syncs its directory. A missing file is not an
// error.
func Remove(path string) error {
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w: %w", dir, ErrNotDurable, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !unsupported(err) {
		return fmt.Errorf("sync dir %s: %w: %w", dir, ErrNotDurable, err)
	}
	return nil
}

// unsupported reports a filesystem that cannot sync a directory.
func unsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}

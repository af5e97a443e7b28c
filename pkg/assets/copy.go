package assets

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// untar writes a Docker archive of one directory into dst, dropping the
// archive's top component (the directory's own name). It returns the number
// of files written and refuses entries that would land outside dst.
func untar(r io.Reader, dst string) (int, error) {
	tr := tar.NewReader(r)
	files := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return files, fmt.Errorf("read archive: %w", err)
		}
		rel, ok := stripTop(h.Name)
		if !ok {
			continue
		}
		target, err := inside(dst, rel)
		if err != nil {
			return files, err
		}
		wrote, err := writeEntry(tr, h, dst, target)
		if err != nil {
			return files, fmt.Errorf("write %s: %w", rel, err)
		}
		if wrote {
			files++
		}
	}
}

// stripTop drops the first path component; false for the top entry itself.
func stripTop(name string) (string, bool) {
	name = strings.TrimPrefix(filepath.ToSlash(name), "./")
	_, rest, found := strings.Cut(strings.TrimSuffix(name, "/"), "/")
	if !found || rest == "" {
		return "", false
	}
	return rest, true
}

// ErrUnsafePath is an archive entry that points outside the directory.
var ErrUnsafePath = errors.New("archive entry leaves the asset directory")

// inside is rel's path under root. Cleaning it as an absolute path first
// stops ".." at root; safeParent then refuses a parent that an earlier
// symlink entry redirected elsewhere.
func inside(root, rel string) (string, error) {
	clean := filepath.Clean("/" + rel)
	if clean == "/" {
		return "", fmt.Errorf("%q: %w", rel, ErrUnsafePath)
	}
	return filepath.Join(root, clean), nil
}

func safeParent(root, target string) error {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	if real != realRoot && !strings.HasPrefix(real, realRoot+string(filepath.Separator)) {
		return fmt.Errorf("%s: %w", target, ErrUnsafePath)
	}
	return nil
}

func writeEntry(tr *tar.Reader, h *tar.Header, root, target string) (bool, error) {
	mode := fs.FileMode(h.Mode).Perm() | 0o444 // the app's user must read it
	if err := safeParent(root, target); err != nil {
		return false, err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		return false, os.MkdirAll(target, mode|0o111)
	case tar.TypeReg:
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
		if err != nil {
			return false, err
		}
		if _, err := io.Copy(f, tr); err != nil {
			_ = f.Close() // the copy error says more
			return false, err
		}
		return true, f.Close()
	case tar.TypeSymlink:
		return true, os.Symlink(h.Linkname, target)
	case tar.TypeLink:
		src, err := inside(root, mustStrip(h.Linkname))
		if err != nil {
			return false, err
		}
		return true, os.Link(src, target)
	default:
		return false, nil // devices and fifos have no place among assets
	}
}

func mustStrip(name string) string {
	rel, _ := stripTop(name)
	return rel
}

// copyNoClobber copies the tree src into dst (created if missing), keeping
// any file dst already has: `cp -rnT src dst`.
func copyNoClobber(src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, out); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			return nil
		default:
			return copyFile(p, out)
		}
	})
}

// copyIntoExisting merges src into dst only when dst exists: the previous
// version's mounted directory is bridged, never recreated for a container
// that no longer runs.
func copyIntoExisting(src, dst string) error {
	if _, err := os.Stat(dst); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return copyNoClobber(src, dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // read-only: nothing to flush
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, info.Mode().Perm())
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close() // the copy error says more
		return err
	}
	return out.Close()
}

// Package assets bridges a web role's static assets across versions on one
// host, as Kamal's asset_path does: each version's files are extracted from
// its image, merged with the files of the version it replaces, and the
// merged directory is bind-mounted at asset_path. A page rendered by either
// version then finds every asset it links, on whichever container serves
// the asset request, during and after a swap.
//
// Layout under Root (the sidecar's state directory):
//
//	<service>[-<dest>]/extracted/<role>/<version>   what the image holds
//	<service>[-<dest>]/volumes/<role>/<version>     what the container sees
//
// The mounted directory holds the image's own files, so nothing of the
// image is hidden. Kamal names these <role>-<version> side by side; a
// directory per role keeps pruning "web" from touching "web-admin".
package assets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Source yields a tar stream of one directory of an image, entries named
// relative to the directory's base name (the Docker engine's archive layout).
type Source interface {
	Archive(ctx context.Context, image, dir string) (io.ReadCloser, error)
}

// Identifier is a Source that can name the image ID behind a reference, so
// a version extracted already from that very image is not extracted again.
type Identifier interface {
	ImageID(ctx context.Context, image string) (string, error)
}

// markerSuffix names the file beside an extracted directory that records
// the image ID it came from.
const markerSuffix = ".image"

// Role names the (service, destination, role) whose assets are bridged.
type Role struct {
	Service, Destination, Role string
}

func (r Role) group() string {
	if r.Destination == "" {
		return r.Service
	}
	return r.Service + "-" + r.Destination
}

// Bridge prepares and prunes asset directories under Root.
type Bridge struct {
	Root   string
	Source Source
}

// ErrNoAssets means the image has nothing at the asset path: a config
// error (wrong asset_path) that would otherwise serve 404s for every asset.
// Sources return it, wrapped, when the path does not exist.
var ErrNoAssets = errors.New("image has no files at asset_path")

// ExtractedDir is where version's own assets are kept.
func (b *Bridge) ExtractedDir(r Role, version string) string {
	return filepath.Join(b.Root, r.group(), "extracted", r.Role, version)
}

// VolumeDir is the directory mounted at asset_path in version's container.
func (b *Bridge) VolumeDir(r Role, version string) string {
	return filepath.Join(b.Root, r.group(), "volumes", r.Role, version)
}

// Prepare is PrepareRole for d's role, image, asset path and version.
func (b *Bridge) Prepare(ctx context.Context, d *contract.Deploy, previous string) (string, error) {
	if d.Assets == nil {
		return "", nil
	}
	return b.PrepareRole(ctx, roleOf(d), d.Image, d.Assets.Path, d.Version, previous)
}

// Prune is PruneRole for d's role, keeping d's version and keep.
func (b *Bridge) Prune(d *contract.Deploy, keep ...string) error {
	return b.PruneRole(roleOf(d), append([]string{d.Version}, keep...)...)
}

func roleOf(d *contract.Deploy) Role {
	return Role{Service: d.Service, Destination: d.Destination, Role: d.Role}
}

// PrepareRole extracts version's assets from image and merges them with
// previous's (the version now serving; empty for none) both ways: the new
// container sees the old version's assets and the old container, still
// serving while the new one starts, sees the new ones. Files already present
// are never overwritten, so a version always serves its own copy of a name
// both hold. It returns the directory to mount.
func (b *Bridge) PrepareRole(ctx context.Context, r Role, image, assetPath, version, previous string) (string, error) {
	extracted := b.ExtractedDir(r, version)
	if err := b.extractOnce(ctx, image, assetPath, extracted); err != nil {
		return "", fmt.Errorf("extract assets of %s: %w", version, err)
	}
	volume := b.VolumeDir(r, version)
	if err := copyNoClobber(extracted, volume); err != nil {
		return "", fmt.Errorf("assets of %s: %w", version, err)
	}
	if previous == "" || previous == version {
		return volume, nil
	}
	// The previous version's directories may be gone (pruned, or a host
	// that never ran it); bridging is best effort there, as in Kamal.
	if err := copyNoClobber(b.ExtractedDir(r, previous), volume); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("merge assets of %s into %s: %w", previous, version, err)
	}
	if err := copyIntoExisting(extracted, b.VolumeDir(r, previous)); err != nil {
		return "", fmt.Errorf("merge assets of %s into %s: %w", version, previous, err)
	}
	return volume, nil
}

// extractOnce extracts the image's files at assetPath into dst unless dst
// holds them already: a deploy's assets are bridged by the plugin on every
// host before the first swap, then again by the swap itself, and a
// rollback's target was extracted when it was deployed. The image ID, not
// the reference, says it is the same image (a tag may be rebuilt), with
// the same asset path.
func (b *Bridge) extractOnce(ctx context.Context, image, assetPath, dst string) error {
	id := ""
	if ider, ok := b.Source.(Identifier); ok {
		if v, err := ider.ImageID(ctx, image); err == nil && v != "" {
			id = v + " " + assetPath // what was extracted from where
		}
	}
	marker := dst + markerSuffix
	if id != "" {
		if got, err := os.ReadFile(marker); err == nil && string(got) == id {
			if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
				return nil
			}
		}
	}
	_ = os.Remove(marker) // stale or absent; a missing marker only costs an extraction
	if err := b.extract(ctx, image, assetPath, dst); err != nil {
		return err
	}
	if id != "" {
		_ = os.WriteFile(marker, []byte(id), 0o644) // best effort, as above
	}
	return nil
}

// extract replaces dst with the image's files at assetPath, through a
// temporary sibling so a failed extraction leaves no half directory.
func (b *Bridge) extract(ctx context.Context, image, assetPath, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".extract-")
	if err != nil {
		return err
	}
	// Gone after the rename; a leftover is removed by the next Prune.
	defer func() { _ = os.RemoveAll(tmp) }()
	rc, err := b.Source.Archive(ctx, image, assetPath)
	if err != nil {
		return err
	}
	_, err = untar(rc, tmp)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// PruneRole removes the role's asset directories of every version but keep, as
// Kamal does once the old container is stopped. A retained container rolled
// back to later gets its directories back from Prepare.
func (b *Bridge) PruneRole(r Role, keep ...string) error {
	keepNames := map[string]bool{}
	for _, v := range keep {
		keepNames[v] = true
	}
	var errs []error
	for _, kind := range []string{"extracted", "volumes"} {
		dir := filepath.Join(b.Root, r.group(), kind, r.Role)
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if keepNames[name] || keepNames[strings.TrimSuffix(name, markerSuffix)] {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("prune assets of %s: %w", r.Role, err)
	}
	return nil
}

package imageship

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// maxJSONEntry bounds manifest.json and image config entries read into memory.
const maxJSONEntry = 16 << 20

// archiveIndex is what one pass over a `docker save` archive tells us: which
// file holds each layer (in RootFS order) and the layer diff IDs.
type archiveIndex struct {
	// Layers are the archive paths of the image's layers, bottom first,
	// as listed by manifest.json ("<id>/layer.tar" in the legacy layout,
	// "blobs/sha256/<hex>" in the OCI layout of newer Docker).
	Layers []string
	// DiffIDs are the image config's rootfs.diff_ids, one per layer.
	DiffIDs []string
	// ConfigPath is the image config's path in the archive.
	ConfigPath string
	// Symlinks maps a symlink entry to the path it resolves to (Docker links
	// repeated layers to their first copy).
	Symlinks map[string]string
	// Sizes of regular files by path.
	Sizes map[string]int64
}

type manifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// indexArchive reads a whole `docker save` archive of one image. It needs
// manifest.json, which Docker may write after the layers, so callers keep the
// archive in a file and rewrite it in a second pass.
func indexArchive(r io.Reader) (*archiveIndex, error) {
	idx := &archiveIndex{Symlinks: map[string]string{}, Sizes: map[string]int64{}}
	jsonFiles := map[string][]byte{} // small *.json and blob candidates for the config
	var manifest []byte
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read image archive: %w", err)
		}
		name := cleanName(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			idx.Symlinks[name] = path.Join(path.Dir(name), hdr.Linkname)
		case tar.TypeReg:
			idx.Sizes[name] = hdr.Size
			if name == "manifest.json" {
				if manifest, err = readSmall(tr, hdr); err != nil {
					return nil, err
				}
			} else if hdr.Size < maxJSONEntry && (strings.HasSuffix(name, ".json") || hdr.Size < 1<<20 && strings.HasPrefix(name, "blobs/")) {
				// Keep candidates for the config; blobs of layers are
				// usually far larger than 1 MiB and skipped.
				if jsonFiles[name], err = readSmall(tr, hdr); err != nil {
					return nil, err
				}
			}
		}
	}
	if manifest == nil {
		return nil, errors.New("read image archive: no manifest.json (is this a `docker save` archive?)")
	}
	var entries []manifestEntry
	if err := json.Unmarshal(manifest, &entries); err != nil {
		return nil, fmt.Errorf("read image archive: parse manifest.json: %w", err)
	}
	if len(entries) != 1 {
		return nil, fmt.Errorf("read image archive: manifest.json has %d images, want 1", len(entries))
	}
	e := entries[0]
	idx.ConfigPath = cleanName(e.Config)
	for _, l := range e.Layers {
		idx.Layers = append(idx.Layers, cleanName(l))
	}
	cfg, ok := jsonFiles[idx.ConfigPath]
	if !ok {
		return nil, fmt.Errorf("read image archive: image config %s missing", e.Config)
	}
	var config struct {
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cfg, &config); err != nil {
		return nil, fmt.Errorf("read image archive: parse image config: %w", err)
	}
	idx.DiffIDs = config.RootFS.DiffIDs
	if len(idx.DiffIDs) != len(idx.Layers) {
		return nil, fmt.Errorf("read image archive: %d layers in manifest.json but %d diff IDs in the config", len(idx.Layers), len(idx.DiffIDs))
	}
	return idx, nil
}

func readSmall(tr *tar.Reader, hdr *tar.Header) ([]byte, error) {
	if hdr.Size > maxJSONEntry {
		return nil, fmt.Errorf("read image archive: %s is %d bytes, too large", hdr.Name, hdr.Size)
	}
	b, err := io.ReadAll(io.LimitReader(tr, maxJSONEntry))
	if err != nil {
		return nil, fmt.Errorf("read image archive: %s: %w", hdr.Name, err)
	}
	return b, nil
}

// cleanName normalises an archive path ("./a/b" and "a/b" are the same).
func cleanName(n string) string {
	return strings.TrimPrefix(path.Clean("/"+n), "/")
}

// omit returns the archive paths to leave out when the host already has the
// first skip layers: their files, except any file a kept layer still uses
// (directly or through a symlink).
func (idx *archiveIndex) omit(skip int) map[string]bool {
	if skip <= 0 {
		return nil
	}
	skip = min(skip, len(idx.Layers))
	keep := map[string]bool{}
	for _, l := range idx.Layers[skip:] {
		keep[l] = true
		if target, ok := idx.Symlinks[l]; ok {
			keep[target] = true
		}
	}
	drop := map[string]bool{}
	for _, l := range idx.Layers[:skip] {
		if !keep[l] {
			drop[l] = true
		}
		if target, ok := idx.Symlinks[l]; ok && !keep[target] {
			drop[target] = true
		}
	}
	return drop
}

// rewriteArchive copies a `docker save` archive from r to w, leaving out the
// entries named in omit. Everything else (manifest.json, index.json, configs,
// per-layer json) is copied unchanged, so `docker load` sees the same image and
// only skips opening the files of layers it already has.
func rewriteArchive(w io.Writer, r io.Reader, omit map[string]bool) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read image archive: %w", err)
		}
		if omit[cleanName(hdr.Name)] {
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("write image archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := io.Copy(tw, tr); err != nil {
				return fmt.Errorf("write image archive: %s: %w", hdr.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write image archive: %w", err)
	}
	return nil
}

// SharedPrefix is the number of leading layers of layers (diff IDs, bottom
// first) that the host already holds as a chain: the longest prefix equal to
// the prefix of some image on the host. A layer matched by digest alone at a
// different position does not count, because Docker stores layers by chain ID
// (the layer together with everything below it).
func SharedPrefix(layers []string, host [][]string) int {
	best := 0
	for _, h := range host {
		n := 0
		for n < len(layers) && n < len(h) && layers[n] == h[n] {
			n++
		}
		best = max(best, n)
	}
	return best
}

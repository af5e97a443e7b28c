package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/moby/client"
)

// Image is what callers need to know about an image.
type Image struct {
	ID       string // "sha256:..."
	RepoTags []string
	// Layers are the RootFS layer diff IDs, bottom first (Inspect only).
	Layers []string
	Labels map[string]string
	// HasHealthcheck is true when the image defines a HEALTHCHECK (Inspect
	// only).
	HasHealthcheck bool
	Created        time.Time
}

// ImageInspect returns an image by reference or ID.
func (c *Client) ImageInspect(ctx context.Context, ref string) (Image, error) {
	res, err := c.api.ImageInspect(ctx, ref)
	if err != nil {
		return Image{}, wrap("inspect image "+ref, err)
	}
	out := Image{ID: res.ID, RepoTags: res.RepoTags, Layers: res.RootFS.Layers, Created: parseTime(res.Created)}
	if cfg := res.Config; cfg != nil {
		out.Labels = cfg.Labels
		hc := cfg.Healthcheck
		out.HasHealthcheck = hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE"
	}
	return out, nil
}

// ErrLayerMissing is returned (wrapped) by ImageLoad when the archive
// leaves out a layer that the engine does not have either: a partial
// archive, made against layers the host has since pruned.
var ErrLayerMissing = errors.New("a layer the archive leaves out is missing on the host")

// ImageLoad feeds a `docker save` archive (tar, optionally gzip) to the
// engine and returns the engine's progress text ("Loaded image: ...").
// An error reported inside the stream is returned as an error.
func (c *Client) ImageLoad(ctx context.Context, archive io.Reader) (string, error) {
	res, err := c.api.ImageLoad(ctx, archive, client.ImageLoadWithQuiet(true))
	if err != nil {
		return "", loadError(wrap("load image", err))
	}
	// The progress is read to its end or has failed already: closing it
	// cannot fail the load.
	defer func() { _ = res.Close() }()
	var progress strings.Builder
	dec := json.NewDecoder(io.LimitReader(res, maxLogBytes))
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail *struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return progress.String(), fmt.Errorf("load image: read progress: %w", err)
		}
		if m.Error != "" {
			msg := m.Error
			if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
				msg = m.ErrorDetail.Message
			}
			return progress.String(), loadError(fmt.Errorf("load image: %s", msg))
		}
		progress.WriteString(m.Stream)
	}
	return progress.String(), nil
}

// loadError marks err with ErrLayerMissing when the engine says a layer
// file is missing. The engine reports this only as text (in the progress
// stream, or in the error of the call), so this is the one place that reads
// it; callers test for ErrLayerMissing.
func loadError(err error) error {
	if strings.Contains(err.Error(), "no such file") {
		return fmt.Errorf("%w: %w", ErrLayerMissing, err)
	}
	return err
}

// ImageImport creates an image from a root filesystem tarball (as `docker
// import`), applying Dockerfile changes such as `CMD ["/app"]`, and tags it
// ref. It returns the new image's ID.
func (c *Client) ImageImport(ctx context.Context, rootfs io.Reader, ref string, changes []string) (string, error) {
	res, err := c.api.ImageImport(ctx, client.ImageImportSource{Source: rootfs, SourceName: "-"}, ref,
		client.ImageImportOptions{Changes: changes})
	if err != nil {
		return "", wrap("import image "+ref, err)
	}
	// Read to its end below, or failed already: closing cannot fail it.
	defer func() { _ = res.Close() }()
	if _, err := io.Copy(io.Discard, io.LimitReader(res, maxLogBytes)); err != nil {
		return "", fmt.Errorf("import image %s: %w", ref, err)
	}
	img, err := c.ImageInspect(ctx, ref)
	if err != nil {
		return "", err
	}
	return img.ID, nil
}

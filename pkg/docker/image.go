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

// ImageList returns the top-level images (ID, tags, labels; not layers).
func (c *Client) ImageList(ctx context.Context) ([]Image, error) {
	res, err := c.api.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		return nil, wrap("list images", err)
	}
	out := make([]Image, 0, len(res.Items))
	for _, s := range res.Items {
		out = append(out, Image{ID: s.ID, RepoTags: s.RepoTags, Labels: s.Labels, Created: time.Unix(s.Created, 0)})
	}
	return out, nil
}

// ImageLoad feeds a `docker save` archive (tar, optionally gzip) to the
// engine and returns the engine's progress text ("Loaded image: ...").
// An error reported inside the stream is returned as an error.
func (c *Client) ImageLoad(ctx context.Context, archive io.Reader) (string, error) {
	res, err := c.api.ImageLoad(ctx, archive, client.ImageLoadWithQuiet(true))
	if err != nil {
		return "", wrap("load image", err)
	}
	defer res.Close()
	var out strings.Builder
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
			return out.String(), fmt.Errorf("load image: read progress: %w", err)
		}
		if m.Error != "" {
			msg := m.Error
			if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
				msg = m.ErrorDetail.Message
			}
			return out.String(), fmt.Errorf("load image: %s", msg)
		}
		out.WriteString(m.Stream)
	}
	return out.String(), nil
}

// ImageRemove removes an image reference (and the image when it was the
// last reference).
func (c *Client) ImageRemove(ctx context.Context, ref string, force bool) error {
	_, err := c.api.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: force})
	return wrap("remove image "+ref, err)
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
	defer res.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(res, maxLogBytes)); err != nil {
		return "", fmt.Errorf("import image %s: %w", ref, err)
	}
	img, err := c.ImageInspect(ctx, ref)
	if err != nil {
		return "", err
	}
	return img.ID, nil
}

package docker

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/moby/moby/client"
)

// CopyFrom streams path out of container id as a tar archive whose entries
// are named relative to path's base name, the engine's archive layout. A
// symlink at path is followed once, as `docker cp -L` does: Rails images
// often link public/assets elsewhere.
func (c *Client) CopyFrom(ctx context.Context, id, p string) (io.ReadCloser, error) {
	res, err := c.api.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: p})
	if err != nil {
		return nil, wrap(fmt.Sprintf("copy %s out of %s", p, id), err)
	}
	if res.Stat.Mode&os.ModeSymlink == 0 {
		return res.Content, nil
	}
	// The link itself is not what the caller wants; its target is.
	_ = res.Content.Close() // only the stat was needed
	target := res.Stat.LinkTarget
	if !path.IsAbs(target) {
		target = path.Join(path.Dir(p), target)
	}
	res, err = c.api.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: target})
	if err != nil {
		return nil, wrap(fmt.Sprintf("copy %s (-> %s) out of %s", p, target, id), err)
	}
	return res.Content, nil
}

package swap

import (
	"context"
	"fmt"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Asset bridging (Kamal's asset_path): before green starts, its assets and
// the serving version's are merged into the directory green mounts; once
// blue is stopped, older versions' directories go.

// prepareAssets extracts green's assets and bridges them with blue's.
type prepareAssets struct {
	path     string
	previous string
}

func (prepareAssets) Name() string      { return StepPrepareAssets }
func (prepareAssets) Container() string { return "" }

func (s prepareAssets) Format() string {
	if s.previous == "" {
		return s.path
	}
	return fmt.Sprintf("%s, merged with %s", s.path, s.previous)
}

func (s prepareAssets) Execute(ctx context.Context, r *run) error {
	if r.e.Assets == nil {
		return fmt.Errorf("prepare assets: %w", ErrNoAssetBridge)
	}
	dir, err := r.e.Assets.Prepare(ctx, r.d, s.previous)
	if err != nil {
		return err
	}
	r.assetsDir = dir
	return nil
}

// pruneAssets removes asset directories of versions other than green's and
// the warm containers': a warm container keeps serving its pages' assets
// from its mount the moment a rollback routes back to it.
type pruneAssets struct{}

func (pruneAssets) Name() string      { return StepPruneAssets }
func (pruneAssets) Container() string { return "" }
func (pruneAssets) Format() string    { return "keep only the serving version's" }

func (pruneAssets) Execute(_ context.Context, r *run) error {
	if r.e.Assets == nil {
		return fmt.Errorf("prune assets: %w", ErrNoAssetBridge)
	}
	return r.e.Assets.Prune(r.d, r.warmVersions...)
}

// assetSteps wraps the steps that start green with asset bridging when d
// has an asset path. blue's version is the one being replaced.
func assetSteps(d *contract.Deploy, blue []string) (before, after []Step) {
	if d.Assets == nil {
		return nil, nil
	}
	previous := ""
	if len(blue) > 0 && blue[0] != d.Version {
		previous = blue[0]
	}
	return []Step{prepareAssets{path: d.Assets.Path, previous: previous}}, []Step{pruneAssets{}}
}

package swap

import (
	"context"
	"fmt"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// PrepareAssets bridges a role's assets for req's version ahead of any
// swap, so the container serving now sees the new version's files before
// the first host anywhere switches (see contract.AssetsRequest). The swap's
// own prepare-assets step repeats it; both are idempotent. A role without
// an asset path answers an empty response.
func (e *Engine) PrepareAssets(ctx context.Context, req contract.AssetsRequest) (*contract.AssetsResponse, error) {
	release, err := e.acquire(req.Role)
	if err != nil {
		return nil, err
	}
	defer release()
	cs, err := e.roleContainers(ctx, req.Role)
	if err != nil {
		return nil, err
	}
	d := &contract.Deploy{Service: req.Service, Destination: req.Destination, Role: req.Role.Role,
		Version: req.Version, Image: req.Image, Assets: req.Assets}
	if req.Assets == nil {
		// A rollback: the retained container's own spec says where.
		name := contract.ContainerName(req.Service, req.Role.Role, req.Destination, req.Version)
		target, ok := retained(cs, name, req.Version)
		if !ok {
			return nil, fmt.Errorf("prepare assets of %s %s: %w", roleKey(req.Role), req.Version, ErrNotRetained)
		}
		if d, err = decodeSpec(target.Labels[LabelSpec]); err != nil {
			return nil, fmt.Errorf("prepare assets of %s %s: %w", roleKey(req.Role), req.Version, err)
		}
	}
	if d.Assets == nil {
		return &contract.AssetsResponse{}, nil
	}
	if e.Assets == nil {
		return nil, fmt.Errorf("prepare assets of %s: %w", roleKey(req.Role), ErrNoAssetBridge)
	}
	previous := ""
	for _, c := range cs {
		if v := c.Labels[contract.LabelVersion]; serving(c) && v != req.Version {
			previous = v
			break
		}
	}
	dir, err := e.Assets.Prepare(ctx, d, previous)
	if err != nil {
		return nil, fmt.Errorf("prepare assets of %s %s: %w", roleKey(req.Role), req.Version, err)
	}
	return &contract.AssetsResponse{Dir: dir, Merged: previous}, nil
}

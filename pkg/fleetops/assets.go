package fleetops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
)

// assetsPrepareTimeout bounds one host's extraction of a version's assets
// from its image; a Rails public/assets is megabytes, read from local disk.
const assetsPrepareTimeout = 2 * time.Minute

// assetPreparer bridges asset_path on every target before the first swap,
// as Kamal does before it boots anything: the first host to switch serves
// pages that link the new fingerprinted files, and a load balancer may ask
// any other host for them while that host still runs the old version.
type assetPreparer struct {
	s    *Session
	plan fleet.Plan
	// image is the image being deployed; "" for a rollback, where each
	// host reads the retained container's spec instead.
	image string
}

// Prepare runs on every target with an asset path at once; any failure
// stops the command before a host swaps, so nothing has changed.
func (a assetPreparer) Prepare(ctx context.Context, version string) error {
	reqs, err := a.requests(version)
	if err != nil || len(reqs) == 0 {
		return err
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(reqs))
	bridged := make([]bool, len(reqs))
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bridged[i], errs[i] = a.prepareOne(ctx, r.target, r.req)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if n := countTrue(bridged); n > 0 {
		a.s.out.Step("", "assets", fmt.Sprintf("bridged for %d role(s) on their hosts", n), time.Since(t0))
	}
	return nil
}

type assetsTarget struct {
	target fleet.Target
	req    contract.AssetsRequest
}

// requests are the deploy's targets whose role has an asset path; a
// rollback asks every target, and a host whose retained spec has none
// answers empty.
func (a assetPreparer) requests(version string) ([]assetsTarget, error) {
	var out []assetsTarget
	for _, t := range a.plan.Targets() {
		req := contract.AssetsRequest{Role: a.s.role(t.Role), Version: version}
		if a.image != "" {
			d, err := a.s.Cfg.Deploy(t.Role, t.Host, version, a.image, "")
			if err != nil {
				return nil, err
			}
			if d.Assets == nil {
				continue
			}
			req.Image, req.Assets = d.Image, d.Assets
		}
		out = append(out, assetsTarget{target: t, req: req})
	}
	return out, nil
}

// prepareOne reports whether the host had assets to bridge.
func (a assetPreparer) prepareOne(ctx context.Context, t fleet.Target, req contract.AssetsRequest) (bool, error) {
	c, err := a.s.sidecar(ctx, t.Host)
	if err != nil {
		return false, err
	}
	cctx, cancel := context.WithTimeout(ctx, assetsPrepareTimeout)
	defer cancel()
	resp, err := c.PrepareAssets(cctx, req)
	if err != nil {
		return false, fmt.Errorf("prepare assets of %s %s on %s: %w", t.Role, req.Version, t.Host, err)
	}
	if resp.Merged != "" {
		a.s.out.Verbose("[%s] %s assets of %s bridged with %s", t.Host, t.Role, req.Version, resp.Merged)
	}
	return resp.Dir != "", nil
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

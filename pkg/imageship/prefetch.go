package imageship

import (
	"context"
)

// prefetch is a host inventory fetched ahead of the ship that uses it.
type prefetch struct {
	done chan struct{}
	inv  *hostInventory
	err  error
}

// PrefetchHost lists host's images in the background, so the next Ship to
// host starts from that list instead of asking then: a deploy asks while
// the image builds. The list is used once; a layer the host pruned since is
// caught by the load (ErrLayerMissing) and the full archive sent, and an
// image it gained only costs bytes it did not need.
func (s *Shipper) PrefetchHost(ctx context.Context, host string, r Remote) {
	s.mu.Lock()
	if s.prefetched == nil {
		s.prefetched = map[string]*prefetch{}
	}
	if _, ok := s.prefetched[host]; ok {
		s.mu.Unlock()
		return
	}
	p := &prefetch{done: make(chan struct{})}
	s.prefetched[host] = p
	s.mu.Unlock()
	s.background(ctx, func(ctx context.Context) {
		defer close(p.done)
		p.inv, p.err = s.hostImages(ctx, r)
	})
}

// inventory is host's prefetched list when there is one that succeeded,
// else a fresh one.
func (s *Shipper) inventory(ctx context.Context, host string, r Remote) (*hostInventory, error) {
	s.mu.Lock()
	p := s.prefetched[host]
	delete(s.prefetched, host)
	s.mu.Unlock()
	if p != nil {
		select {
		case <-p.done:
			if p.err == nil {
				return p.inv, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.hostImages(ctx, r)
}

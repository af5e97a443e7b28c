package doctorcmd

import (
	"context"
	"fmt"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/doctor"
	"github.com/dockerkamal/docker-kamal/pkg/fleetops"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// poolRemote runs doctor's live commands over the SSH transport.
type poolRemote struct{ pool *transport.Pool }

func (r poolRemote) Output(ctx context.Context, host, cmd string) ([]byte, error) {
	c, err := r.pool.Get(ctx, host)
	if err != nil {
		return nil, err
	}
	return c.Output(ctx, cmd)
}

func runLive(ctx context.Context, p *doctor.Project) ([]doctor.Finding, error) {
	if p.Config == nil {
		return nil, nil // config-load already reports why
	}
	pool, err := transport.NewPool(fleetops.SSHOptions(p.Config))
	if err != nil {
		return nil, fmt.Errorf("set up ssh: %w", err)
	}
	defer func() { _ = pool.Close() }() // the findings are in; closing cannot change them
	return doctor.Live(ctx, p, poolRemote{pool}, time.Now), nil
}

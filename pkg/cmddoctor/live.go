package cmddoctor

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/doctor"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
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
	pool, err := transport.NewPool(sshOptions(p.Config))
	if err != nil {
		return nil, fmt.Errorf("set up ssh: %w", err)
	}
	defer pool.Close()
	return doctor.Live(ctx, p, poolRemote{pool}, time.Now), nil
}

// sshOptions maps the config's ssh section as fleetcmd does (its mapping is
// unexported).
func sshOptions(cfg *spec.Config) transport.Options {
	accept := os.Getenv(fleetcmd.EnvAcceptNewHostKeys)
	o := transport.Options{
		User:              cfg.SSH.User,
		Port:              cfg.SSH.Port,
		KeyFiles:          cfg.SSH.Keys,
		KeysOnly:          cfg.SSH.KeysOnly,
		Proxy:             cfg.SSH.Proxy,
		AcceptNewHostKeys: accept == "1" || accept == "true",
	}
	if cfg.SSH.Config != nil {
		if len(cfg.SSH.Config) == 0 {
			o.ConfigFile = "none"
		} else {
			o.ConfigFile = cfg.SSH.Config[0]
		}
	}
	return o
}

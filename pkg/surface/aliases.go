package surface

import (
	"context"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// registerAliases makes the config's `aliases:` runnable as commands.
func registerAliases() {
	command.RegisterAliasResolver(func(ctx context.Context, configFile, destination string) (map[string]string, error) {
		if configFile == "" {
			configFile = "config/deploy.yml"
		}
		cfg, err := spec.Load(ctx, spec.LoadOptions{ConfigFile: configFile, Destination: destination})
		if err != nil {
			return nil, err
		}
		return cfg.Aliases, nil
	})
}

package configcmd

import (
	"context"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// Aliases are the `aliases:` of the config that configFile and destination
// name (the default config file when configFile is ""), for
// cmdline.Program.Aliases.
func Aliases(ctx context.Context, configFile, destination string) (map[string]string, error) {
	if configFile == "" {
		configFile = "config/deploy.yml"
	}
	cfg, err := spec.Load(ctx, spec.LoadOptions{ConfigFile: configFile, Destination: destination})
	if err != nil {
		return nil, err
	}
	return cfg.Aliases, nil
}

// Package configcmd defines the commands about the app's config that run
// on this machine only: `config` (the merged, normalised config with
// secrets redacted), `init` (a starter config, secrets file and sample
// hooks; with --rails a production setup for a Rails app), `docs` (the
// config reference, docs/config.md, built in) and `secrets` (Kamal's
// helpers for .kamal/secrets). It also resolves the config's aliases.
package configcmd

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// Commands are config, init, docs and secrets, in the order help lists
// them.
func Commands() []*cmdline.Command {
	return []*cmdline.Command{
		{Name: "config", Usage: "Show the merged config, secrets redacted", Run: runConfig},
		initCommand(),
		{Name: "docs", Usage: "Show the config reference, or one SECTION of it (docs proxy)", Args: "[SECTION]", Run: runDocs},
		secretsCommand(),
	}
}

// loadOptions are the spec.LoadOptions for the global options g.
func loadOptions(g *cmdline.Globals) spec.LoadOptions {
	return spec.LoadOptions{ConfigFile: g.ConfigFile, Destination: g.Destination}
}

func runConfig(ctx context.Context, g *cmdline.Globals, _ *cli.Context) error {
	c, err := spec.Load(ctx, loadOptions(g))
	if err != nil {
		return &cmdline.ExitError{Code: 1, Err: fmt.Errorf("load config: %w", err)}
	}
	out, err := c.Redacted()
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	// Redacted whole, by type and by value: never a substring of other
	// text, which would mangle it and show where a secret occurs.
	_, err = fmt.Fprint(g.Stdout, string(out))
	return err
}

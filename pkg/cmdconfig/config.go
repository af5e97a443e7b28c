// Package cmdconfig implements `docker kamal config` (the merged,
// normalised config with secrets redacted), `docker kamal init` (a
// starter config, secrets file and sample hooks) and `docker kamal docs`
// (the config reference, docs/config.md, built in).
package cmdconfig

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// Register plugs config, init and docs into the command tree.
func Register() {
	command.Register("config", runConfig)
	command.Register("init", runInit)
	command.Register("docs", runDocs)
}

// LoadOptions are the spec.LoadOptions for the global options g.
func LoadOptions(g *command.Globals) spec.LoadOptions {
	return spec.LoadOptions{ConfigFile: g.ConfigFile, Destination: g.Destination}
}

func runConfig(ctx context.Context, g *command.Globals, _ *cli.Context) error {
	c, err := spec.Load(ctx, LoadOptions(g))
	if err != nil {
		return &command.ExitError{Code: 1, Err: fmt.Errorf("load config: %w", err)}
	}
	out, err := c.Redacted()
	if err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	_, err = fmt.Fprint(g.Stdout, Scrub(string(out), c.SecretValues()))
	return err
}

// minScrubLen keeps very short secret values from mangling unrelated text.
const minScrubLen = 4

// Scrub replaces any secret value that still appears in s (defence in depth:
// the config output is redacted by construction).
func Scrub(s string, secrets []string) string {
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, v := range secrets {
		if len(v) >= minScrubLen {
			s = strings.ReplaceAll(s, v, contract.Redacted)
		}
	}
	return s
}

package configcmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/secretadapters"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

func secretsCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:  "secrets",
		Usage: "Helpers for extracting secrets",
		Subcommands: []*cmdline.Command{
			{Name: "print", Usage: "Print the secrets (redacted unless --reveal)", Run: runSecretsPrint,
				Flags: []cli.Flag{&cli.BoolFlag{Name: "reveal", Usage: "print the values, not just the names"}}},
			{Name: "extract", Usage: "Extract a single secret from fetched secrets", Args: "NAME SECRETS", Run: runSecretsExtract,
				Flags: []cli.Flag{inlineFlag()}},
			{Name: "fetch", Usage: "Fetch secrets from a vault", Args: "SECRETS...", Run: runSecretsFetch,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "adapter", Aliases: []string{"a"}, Required: true,
						Usage: "which vault adapter: " + strings.Join(secretadapters.Names(), ", ")},
					&cli.StringFlag{Name: "from", Usage: "a vault, folder, item or project to fetch the secrets from (per adapter)"},
					&cli.StringFlag{Name: "account", Usage: "the account identifier or username (1password, bitwarden, lastpass, gcp need it)"},
					inlineFlag(),
				}},
		},
	}
}

// inlineFlag is Kamal's hidden --inline: fetch's JSON shell-escaped, as
// a secrets file's $(...) gets it.
func inlineFlag() cli.Flag {
	return &cli.BoolFlag{Name: "inline", Hidden: true, Usage: "print fetch's JSON shell-escaped"}
}

// secretLines renders NAME=value lines, values redacted unless reveal.
func secretLines(names []string, value func(string) string, reveal bool) string {
	var b strings.Builder
	for _, n := range names {
		v := contract.Redacted
		if reveal {
			v = value(n)
		}
		b.WriteString(n + "=" + v + "\n")
	}
	return b.String()
}

func runSecretsPrint(ctx context.Context, g *cmdline.Globals, c *cli.Context) error {
	cfg, err := spec.Load(ctx, loadOptions(g))
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(g.Stdout, secretLines(cfg.SecretNames(), func(n string) string {
		v, _ := cfg.Secret(n)
		return v
	}, c.Bool("reveal")))
	return err
}

func runSecretsExtract(_ context.Context, g *cmdline.Globals, c *cli.Context) error {
	if c.NArg() != 2 {
		return errors.New("secrets extract: usage: docker kamal secrets extract NAME SECRETS (SECRETS is the JSON secrets fetch printed)")
	}
	v, err := secretadapters.Extract(c.Args().Get(0), c.Args().Get(1))
	if err != nil {
		return err
	}
	if c.Bool("inline") {
		_, err = fmt.Fprint(g.Stdout, v)
		return err
	}
	_, err = fmt.Fprintln(g.Stdout, v)
	return err
}

func runSecretsFetch(ctx context.Context, g *cmdline.Globals, c *cli.Context) error {
	js, err := secretadapters.FetchJSON(ctx, c.String("adapter"), secretadapters.Request{
		Account: c.String("account"), From: c.String("from"), Items: c.Args().Slice(),
	})
	if err != nil {
		return err
	}
	if c.Bool("inline") {
		_, err = fmt.Fprint(g.Stdout, secretadapters.ShellEscape(js))
		return err
	}
	_, err = fmt.Fprintln(g.Stdout, js)
	return err
}

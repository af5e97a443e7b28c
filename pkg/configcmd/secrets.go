package configcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// fetchTimeout bounds one adapter call.
const fetchTimeout = time.Minute

// Errors of the secrets helpers.
var (
	// ErrSecretNotFound is a name that fetch's JSON does not hold.
	ErrSecretNotFound = errors.New("not found")
	// ErrUnknownAdapter is a --adapter other than command and pass.
	ErrUnknownAdapter = errors.New("unknown adapter")
)

func secretsCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:  "secrets",
		Usage: "Helpers for extracting secrets",
		Subcommands: []*cmdline.Command{
			{Name: "print", Usage: "Print the secrets (redacted unless --reveal)", Run: runSecretsPrint,
				Flags: []cli.Flag{&cli.BoolFlag{Name: "reveal", Usage: "print the values, not just the names"}}},
			{Name: "extract", Usage: "Extract a single secret from fetched secrets", Args: "NAME SECRETS", Run: runSecretsExtract},
			{Name: "fetch", Usage: "Fetch secrets from a vault", Args: "SECRETS...", Run: runSecretsFetch,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "adapter", Aliases: []string{"a"}, Required: true, Usage: "command (run --from with each name) or pass (pass show FROM/NAME)"},
					&cli.StringFlag{Name: "from", Usage: "command: the command line, {} replaced by the name (else the name is appended); pass: the folder"},
					&cli.StringFlag{Name: "account", Usage: "accepted for Kamal compatibility; unused by these adapters"},
				}},
		},
	}
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

// extractSecret finds NAME in fetch's JSON: the key itself or any key
// ending in /NAME (vault/item/NAME).
func extractSecret(data, name string) (string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return "", fmt.Errorf("secrets extract: the secrets are not fetch's JSON: %w", err)
	}
	if v, ok := m[name]; ok {
		return v, nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.HasSuffix(k, "/"+name) {
			return m[k], nil
		}
	}
	return "", fmt.Errorf("secrets extract: %s %w (have %d secrets)", name, ErrSecretNotFound, len(m))
}

func runSecretsExtract(_ context.Context, g *cmdline.Globals, c *cli.Context) error {
	if c.NArg() != 2 {
		return errors.New("secrets extract: usage: docker kamal secrets extract NAME SECRETS (SECRETS is the JSON secrets fetch printed)")
	}
	v, err := extractSecret(c.Args().Get(1), c.Args().Get(0))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.Stdout, v)
	return err
}

// adapterCommand is the local command an adapter runs for one secret.
func adapterCommand(adapter, from, name string) ([]string, error) {
	switch adapter {
	case "command":
		if strings.TrimSpace(from) == "" {
			return nil, errors.New("secrets fetch --adapter command needs --from 'COMMAND' ({} is replaced by the secret name)")
		}
		line := from
		if strings.Contains(line, "{}") {
			line = strings.ReplaceAll(line, "{}", transport.Quote(name))
		} else {
			line += " " + transport.Quote(name)
		}
		return []string{"sh", "-c", line}, nil
	case "pass":
		p := name
		if from != "" {
			p = strings.TrimSuffix(from, "/") + "/" + name
		}
		return []string{"pass", "show", p}, nil
	}
	return nil, fmt.Errorf("secrets fetch: %w %q (command, pass)", ErrUnknownAdapter, adapter)
}

// adapterValue takes the secret from an adapter's output: pass keeps the
// password on the first line; a command's output loses its final newline.
func adapterValue(adapter, out string) string {
	if adapter == "pass" {
		first, _, _ := strings.Cut(out, "\n")
		return first
	}
	return strings.TrimSuffix(strings.TrimSuffix(out, "\n"), "\r")
}

func runSecretsFetch(ctx context.Context, g *cmdline.Globals, c *cli.Context) error {
	names := c.Args().Slice()
	if len(names) == 0 {
		return errors.New("secrets fetch: name the secrets to fetch")
	}
	adapter, from := c.String("adapter"), c.String("from")
	out := map[string]string{}
	for _, n := range names {
		argv, err := adapterCommand(adapter, from, n)
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, fetchTimeout)
		cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
		var errb strings.Builder
		cmd.Stderr = &errb
		val, err := cmd.Output()
		cancel()
		if err != nil {
			// The adapter's stderr never holds the value: it failed.
			return fmt.Errorf("secrets fetch %s with %s: %w: %s", n, adapter, err, strings.TrimSpace(errb.String()))
		}
		key := n
		if from != "" && adapter == "pass" {
			key = strings.TrimSuffix(from, "/") + "/" + n
		}
		out[key] = adapterValue(adapter, string(val))
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.Stdout, string(b))
	return err
}

// Package cmddoctor plugs `docker kamal doctor` and `docker kamal init
// --rails` into the command tree.
package cmddoctor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdconfig"
	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/doctor"
	"github.com/dockerkamal/docker-kamal/pkg/railsinit"
)

// Register installs doctor, and init with --rails. Call it after
// cmdconfig.Register: the init handler here wraps cmdconfig.Init.
func Register() {
	command.RegisterFlags("doctor",
		&cli.BoolFlag{Name: "json", Usage: "print the findings as JSON"},
		&cli.BoolFlag{Name: "live", Usage: "also ask the hosts (over SSH): health through the proxy, disk room, clock, Docker version"},
	)
	command.Register("doctor", runDoctor)
	command.RegisterFlags("init",
		&cli.BoolFlag{Name: "rails", Usage: "also write a production Dockerfile, entrypoint, full deploy config, staging destination and secrets for a Rails app"},
	)
	command.Register("init", runInit)
}

func runInit(_ context.Context, g *command.Globals, c *cli.Context) error {
	if c.Bool("rails") {
		if err := railsinit.Write(".", g.Stdout); err != nil {
			return fmt.Errorf("init --rails: %w", err)
		}
	}
	// The plain init adds what --rails does not write (sample hooks) and
	// keeps the files --rails just created.
	return cmdconfig.Init(".", g.Stdout)
}

// options maps the global options to doctor's.
func options(g *command.Globals) (doctor.Options, error) {
	root, err := os.Getwd()
	if err != nil {
		return doctor.Options{}, fmt.Errorf("find app root: %w", err)
	}
	cf := g.ConfigFile
	if filepath.IsAbs(cf) {
		if rel, err := filepath.Rel(root, cf); err == nil {
			cf = rel
		}
	}
	return doctor.Options{
		Root:        root,
		ConfigFile:  filepath.ToSlash(cf),
		Destination: g.Destination,
		Images:      doctor.DockerCLI{Flags: g.DockerFlags},
		Version:     g.Version,
	}, nil
}

func runDoctor(ctx context.Context, g *command.Globals, c *cli.Context) error {
	opts, err := options(g)
	if err != nil {
		return err
	}
	p, err := doctor.Load(ctx, opts)
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	findings := doctor.Run(ctx, p, doctor.Checks())
	if c.Bool("live") {
		live, err := runLive(ctx, p)
		if err != nil {
			return fmt.Errorf("doctor --live: %w", err)
		}
		findings = append(findings, live...)
	}
	r := doctor.NewReport(findings, p.Secrets())
	if c.Bool("json") {
		err = r.WriteJSON(g.Stdout)
	} else {
		err = r.WriteText(g.Stdout)
		if err == nil && !g.Quiet {
			_, err = fmt.Fprintln(g.Stderr, r.SummaryLine())
		}
	}
	if err != nil {
		return fmt.Errorf("print findings: %w", err)
	}
	if !r.OK() {
		return &command.ExitError{Code: 1, Err: fmt.Errorf("doctor found %d error(s)", r.Summary.Errors)}
	}
	return nil
}

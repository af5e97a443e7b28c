// Package doctorcmd defines `docker kamal doctor`: it checks the app
// against production deployment practice (pkg/doctor), with --live also on
// the hosts over SSH, and prints the findings.
package doctorcmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/doctor"
)

// Commands are doctor's commands.
func Commands() []*cmdline.Command {
	return []*cmdline.Command{{
		Name:  "doctor",
		Usage: "Check the app against production deployment practice",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the findings as JSON"},
			&cli.BoolFlag{Name: "live", Usage: "also ask the hosts (over SSH): health through the proxy, disk room, clock, Docker version"},
		},
		Run: runDoctor,
	}}
}

// options maps the global options to doctor's.
func options(g *cmdline.Globals) (doctor.Options, error) {
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

func runDoctor(ctx context.Context, g *cmdline.Globals, c *cli.Context) error {
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
		return &cmdline.ExitError{Code: 1, Err: fmt.Errorf("doctor found %d error(s)", r.Summary.Errors)}
	}
	return nil
}

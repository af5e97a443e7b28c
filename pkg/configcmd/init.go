package configcmd

import (
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/railsinit"
)

//go:embed templates
var templates embed.FS

// SampleHooks are the hooks `init` writes as <name>.sample, as Kamal does.
var SampleHooks = []string{"docker-setup", "post-deploy", "post-proxy-reboot", "pre-build", "pre-connect", "pre-deploy", "pre-proxy-reboot"}

func initCommand() *cmdline.Command {
	return &cmdline.Command{
		Name:  "init",
		Usage: "Create config stub in config/deploy.yml, secrets and sample hooks",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "rails", Usage: "also write a production Dockerfile, entrypoint, full deploy config, staging destination and secrets for a Rails app"},
		},
		Run: runInit,
	}
}

func runInit(_ context.Context, g *cmdline.Globals, c *cli.Context) error {
	if c.Bool("rails") {
		if err := railsinit.Write(".", g.Stdout); err != nil {
			return fmt.Errorf("init --rails: %w", err)
		}
	}
	// The plain init adds what --rails does not write (sample hooks) and
	// keeps the files --rails just created.
	return Init(".", g.Stdout)
}

// Init writes a starter config/deploy.yml, .kamal/secrets and sample hooks
// under dir. Existing files are never overwritten; it says what it did.
func Init(dir string, w io.Writer) error {
	files := []struct {
		tmpl, dest string
		mode       os.FileMode
	}{
		{"templates/deploy.yml", "config/deploy.yml", 0o644},
		{"templates/secrets", ".kamal/secrets", 0o600},
	}
	for _, h := range SampleHooks {
		files = append(files, struct {
			tmpl, dest string
			mode       os.FileMode
		}{"templates/hooks/" + h + ".sample", ".kamal/hooks/" + h + ".sample", 0o755})
	}
	for _, f := range files {
		data, err := templates.ReadFile(f.tmpl)
		if err != nil {
			return fmt.Errorf("read template %s: %w", path.Base(f.tmpl), err)
		}
		created, err := railsinit.WriteNew(filepath.Join(dir, f.dest), data, f.mode)
		if err != nil {
			return fmt.Errorf("init %s: %w", f.dest, err)
		}
		did := "Kept existing"
		if created {
			did = "Created"
		}
		if _, err := fmt.Fprintf(w, "%s %s\n", did, f.dest); err != nil {
			return err
		}
	}
	return nil
}

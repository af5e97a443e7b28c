package cmdconfig

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
)

//go:embed templates
var templates embed.FS

// SampleHooks are the hooks `init` writes as <name>.sample, as Kamal does.
var SampleHooks = []string{"docker-setup", "post-deploy", "post-proxy-reboot", "pre-build", "pre-connect", "pre-deploy", "pre-proxy-reboot"}

func runInit(_ context.Context, g *command.Globals, _ *cli.Context) error {
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
		created, err := writeNew(filepath.Join(dir, f.dest), data, f.mode)
		if err != nil {
			return fmt.Errorf("init %s: %w", f.dest, err)
		}
		if created {
			fmt.Fprintf(w, "Created %s\n", f.dest)
		} else {
			fmt.Fprintf(w, "Kept existing %s\n", f.dest)
		}
	}
	return nil
}

// writeNew creates path with data unless it exists (O_EXCL, so a file
// created concurrently is not clobbered either).
func writeNew(p string, data []byte, mode os.FileMode) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return false, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(p)
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	return true, os.Chmod(p, mode)
}

package harness

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RailsPlaceholders are the host addresses in examples/rails's deploy
// configs, in fleet order: web, web, then job + PostgreSQL + Redis.
var RailsPlaceholders = []string{"192.168.0.1", "192.168.0.2", "192.168.0.3"}

// railsRegistryPlaceholder is registry.server in examples/rails/config/deploy.yml.
const railsRegistryPlaceholder = "localhost:5555"

// RailsHost is the proxy host of the example's Rails 8 config: requests
// through Traefik must carry it as their Host header.
const RailsHost = "rails-demo.example.test"

// RailsApp is a copy of examples/rails set up to deploy to a fleet: hosts and
// registry put in place of the placeholders, credentials and master key
// written, and a HOME whose ~/.ssh/config reaches the fleet, so the deploy
// configs need no ssh section.
type RailsApp struct {
	// Dir is the app's root (run `docker kamal` there).
	Dir string
	// Home is the HOME for `docker kamal`: .ssh/config is the fleet's.
	Home string
}

// ExampleRailsDir is examples/rails in this checkout.
func ExampleRailsDir() string {
	return filepath.Join(ImagesDir(), "..", "..", "examples", "rails")
}

// NewRailsApp copies examples/rails into dir for fleet f, whose first three
// hosts replace RailsPlaceholders. registry, when not empty, replaces the
// Rails 8 config's registry.server. The credentials are made once per
// machine (cached under CacheDir) so image builds of the same version hit
// the build cache from run to run.
func NewRailsApp(ctx context.Context, dir string, f *Fleet, registry string) (*RailsApp, error) {
	if len(f.Hosts) < len(RailsPlaceholders) {
		return nil, fmt.Errorf("rails app: fleet has %d hosts, want %d", len(f.Hosts), len(RailsPlaceholders))
	}
	app := &RailsApp{Dir: filepath.Join(dir, "app"), Home: filepath.Join(dir, "home")}
	if err := copyTree(ExampleRailsDir(), app.Dir, skipUntracked); err != nil {
		return nil, fmt.Errorf("copy examples/rails: %w", err)
	}
	pairs := make([]string, 0, 2*len(RailsPlaceholders)+2)
	for i, p := range RailsPlaceholders {
		pairs = append(pairs, p, f.Hosts[i].Addr.String())
	}
	if registry != "" {
		pairs = append(pairs, railsRegistryPlaceholder, registry)
	}
	for _, name := range []string{"deploy.yml", "deploy.kamal1.yml"} {
		if err := replaceInFile(filepath.Join(app.Dir, "config", name), strings.NewReplacer(pairs...)); err != nil {
			return nil, err
		}
	}
	if err := railsCredentials(ctx, app.Dir); err != nil {
		return nil, err
	}
	sshConfig, err := os.ReadFile(f.SSHConfig)
	if err != nil {
		return nil, fmt.Errorf("rails app: read ssh config: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(app.Home, ".ssh"), 0o700); err != nil {
		return nil, fmt.Errorf("rails app: %w", err)
	}
	if err := os.WriteFile(filepath.Join(app.Home, ".ssh", "config"), sshConfig, 0o600); err != nil {
		return nil, fmt.Errorf("rails app: write ssh config: %w", err)
	}
	return app, nil
}

// SetVersion writes the app's VERSION file: the next image built is that
// version (its X-App-Version header and its assets' content).
func (a *RailsApp) SetVersion(version string) error {
	if !validTag(version) {
		return fmt.Errorf("rails app: version %q is not a valid image tag", version)
	}
	return a.WriteFile("VERSION", version+"\n")
}

// WriteFile writes a file of the app (path relative to its root), as a
// developer changing the code between versions would.
func (a *RailsApp) WriteFile(rel, content string) error {
	p := filepath.Join(a.Dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("rails app: %w", err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		return fmt.Errorf("rails app: write %s: %w", rel, err)
	}
	return nil
}

// MasterKey returns config/master.key (a secret: never print it).
func (a *RailsApp) MasterKey() (string, error) {
	b, err := os.ReadFile(filepath.Join(a.Dir, "config", "master.key"))
	if err != nil {
		return "", fmt.Errorf("rails app: read master key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// skipUntracked leaves out what examples/rails/.gitignore keeps out of the
// repository: a developer's local key, logs and build output.
func skipUntracked(rel string, d fs.DirEntry) bool {
	switch rel {
	case "config/master.key", "config/credentials.yml.enc", "config/asset-manifest.json", "public/assets":
		return true
	}
	for _, dir := range []string{"log/", "tmp/", "storage/"} {
		if strings.HasPrefix(rel, dir) && !d.IsDir() && d.Name() != ".keep" {
			return true
		}
	}
	return false
}

// railsCredentials puts the machine's test master key and the credentials
// encrypted with it into app/config, making both on first use with the
// example's bin/new-credentials in the Rails base image.
func railsCredentials(ctx context.Context, app string) error {
	cache := filepath.Join(CacheDir(), "rails-credentials")
	// The key stays private; the encrypted file goes into the image, where
	// the app's user must read it.
	files := map[string]os.FileMode{"master.key": 0o600, "credentials.yml.enc": 0o644}
	err := withLock("rails-credentials", func() error {
		if _, err := os.Stat(filepath.Join(cache, "credentials.yml.enc")); err == nil {
			return nil
		}
		base, err := RailsBaseImage(ctx)
		if err != nil {
			return err
		}
		tmp, err := os.MkdirTemp(CacheDir(), "rails-credentials-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(tmp) }() // best effort: a temp dir
		// bin/new-credentials writes into ../config beside itself.
		for _, d := range []string{"bin", "config"} {
			if err := os.Mkdir(filepath.Join(tmp, d), 0o700); err != nil {
				return err
			}
		}
		if err := copyFile(filepath.Join(ExampleRailsDir(), "bin", "new-credentials"), filepath.Join(tmp, "bin", "new-credentials"), 0o755); err != nil {
			return err
		}
		if _, err := docker(ctx, "run", "--rm", "--label", Label+"=1", "-v", tmp+":/app", "-w", "/app",
			base, "ruby", "bin/new-credentials"); err != nil {
			return err
		}
		if err := os.RemoveAll(cache); err != nil {
			return err
		}
		return os.Rename(filepath.Join(tmp, "config"), cache)
	})
	if err != nil {
		return fmt.Errorf("rails credentials: %w", err)
	}
	for name, mode := range files {
		if err := copyFile(filepath.Join(cache, name), filepath.Join(app, "config", name), mode); err != nil {
			return fmt.Errorf("rails credentials: %w", err)
		}
	}
	return nil
}

// copyTree copies the regular files and directories under src to dst,
// keeping modes, except what skip rejects (paths relative to src, slash
// separated). Symlinks are an error: the example has none.
func copyTree(src, dst string, skip func(rel string, d fs.DirEntry) bool) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && skip(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		}
		return errors.New("copy " + rel + ": not a regular file or directory")
	})
}

func replaceInFile(path string, r *strings.Replacer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("rails app: %w", err)
	}
	if err := os.WriteFile(path, []byte(r.Replace(string(b))), 0o644); err != nil {
		return fmt.Errorf("rails app: %w", err)
	}
	return nil
}

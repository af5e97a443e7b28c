package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// Options say what doctor looks at.
type Options struct {
	// Root is the app directory; default the working directory.
	Root string
	// ConfigFile is relative to Root; default config/deploy.yml.
	ConfigFile string
	// Destination merges config/deploy.<dest>.yml over the base.
	Destination string
	// Env is the process environment for ERB in the config; default
	// os.LookupEnv. Doctor never runs the $(commands) of secrets files:
	// a secret not in Env counts as set to "".
	Env func(string) (string, bool)
	// Images inspects the locally built image; nil skips image checks.
	Images ImageInspector
	// ImageRef overrides the image to inspect; default the config's
	// repository with tag Version (or "latest").
	ImageRef string
	// Version is the app version whose image to inspect.
	Version string
	// NoGit skips git's tracked-file list.
	NoGit bool
}

// Load gathers everything the checks read. Problems with the app (a broken
// config, a missing Dockerfile) are not errors here: they become findings.
// Errors are for doctor itself failing (git or docker misbehaving).
func Load(ctx context.Context, o Options) (*Project, error) {
	if o.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("find app root: %w", err)
		}
		o.Root = wd
	}
	if o.ConfigFile == "" {
		o.ConfigFile = DefaultConfigFile
	}
	p := &Project{Root: o.Root, ConfigFile: o.ConfigFile}
	p.loadConfig(ctx, o)
	dockerfile := ""
	if p.Config != nil && p.Config.Builder.Dockerfile != "" {
		// Like `docker build -f`, relative to the app root, not the context.
		dockerfile = filepath.ToSlash(filepath.Clean(p.Config.Builder.Dockerfile))
	}
	var git func(context.Context, string) ([]string, error)
	if !o.NoGit {
		git = TrackedFiles
	}
	if err := p.loadFiles(ctx, dockerfile, git); err != nil {
		return nil, err
	}
	if o.Images != nil {
		ref := o.ImageRef
		if ref == "" {
			ref = p.imageRef(o.Version)
		}
		if ref != "" {
			p.Image, p.ImageErr = o.Images.InspectImage(ctx, ref)
		}
	}
	return p, nil
}

func (p *Project) loadConfig(ctx context.Context, o Options) {
	files := []string{o.ConfigFile}
	if o.Destination != "" {
		ext := filepath.Ext(o.ConfigFile)
		files = append(files, strings.TrimSuffix(o.ConfigFile, ext)+"."+o.Destination+ext)
	}
	for _, f := range files {
		data, err := readLimited(filepath.Join(p.Root, f))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				p.ConfigErr = &spec.Error{File: f, Msg: "not found"}
				if f == o.ConfigFile {
					p.ConfigErr = fmt.Errorf("%s: %w", f, fs.ErrNotExist)
				}
				return
			}
			p.ConfigErr = &spec.Error{File: f, Msg: "read: " + err.Error()}
			return
		}
		p.loc.addFile(f, data)
	}
	env := o.Env
	if env == nil {
		env = os.LookupEnv
	}
	cfg, err := spec.Load(ctx, spec.LoadOptions{
		Dir:            p.Root,
		ConfigFile:     o.ConfigFile,
		Destination:    o.Destination,
		NoSecretsFiles: true,
		Env: func(k string) (string, bool) {
			if v, ok := env(k); ok {
				return v, true
			}
			return "", true
		},
	})
	if err != nil {
		p.ConfigErr = err
		return
	}
	p.Config = cfg
}

// imageRef is the config's image repository with tag version or "latest".
func (p *Project) imageRef(version string) string {
	c := p.Config
	if c == nil || c.Image == "" {
		return ""
	}
	repo := c.Image
	if c.Registry != nil && c.Registry.Server != "" && !strings.HasPrefix(repo, c.Registry.Server+"/") {
		repo = c.Registry.Server + "/" + repo
	}
	if version == "" {
		version = "latest"
	}
	return repo + ":" + version
}

// Secrets returns values to scrub from any output: resolved secrets, clear
// values under secret-looking names and registry passwords.
func (p *Project) Secrets() []string {
	c := p.Config
	if c == nil {
		return nil
	}
	out := c.SecretValues()
	add := func(m map[string]string) {
		for k, v := range m {
			if secretName(k) || credentialURLRE.MatchString(v) {
				out = append(out, v)
			}
		}
	}
	add(c.Env.Clear)
	for _, r := range c.Roles {
		add(r.Env.Clear)
	}
	for _, a := range c.Accessories {
		add(a.Env.Clear)
	}
	return out
}

package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// Paths of the app files doctor reads, relative to the app root.
const (
	DockerfilePath    = "Dockerfile"
	EntrypointPath    = "bin/docker-entrypoint"
	ProductionPath    = "config/environments/production.rb"
	RoutesPath        = "config/routes.rb"
	ApplicationPath   = "config/application.rb"
	GemfilePath       = "Gemfile"
	RubyVersionPath   = ".ruby-version"
	CredentialsPath   = "config/credentials.yml.enc"
	ProdCredentialsPa = "config/credentials/production.yml.enc"
	DefaultConfigFile = "config/deploy.yml"
)

// maxFileSize bounds what doctor reads of any one app file.
const maxFileSize = 4 << 20

// Project is everything doctor knows about the app; checks read it and never
// touch the file system or network themselves.
type Project struct {
	// Root is the app directory.
	Root string
	// Dockerfile is nil when there is none.
	Dockerfile *Dockerfile
	// Entrypoint, Production, Routes, Application, Gemfile: nil when absent.
	Entrypoint  *SourceFile
	Production  *SourceFile
	Routes      *SourceFile
	Application *SourceFile
	Gemfile     *SourceFile
	// Tracked are git's tracked files; nil when not a git work tree.
	Tracked []string
	// Image is the locally built image; nil when absent or not inspected.
	Image *ImageInfo
	// ImageErr is why the image could not be inspected (docker not
	// answering); the image checks then say so instead of failing doctor.
	ImageErr error
	// Config is the loaded deploy config; nil when it is missing or failed
	// to load (ConfigErr says why).
	Config    *spec.Config
	ConfigErr error
	// ConfigFile is the base config file, relative to Root.
	ConfigFile string

	loc   locator
	files map[string]*SourceFile
}

// File reads a file of the app (cached); nil when it does not exist or
// cannot be read.
func (p *Project) File(rel string) *SourceFile {
	if f, ok := p.files[rel]; ok {
		return f
	}
	var f *SourceFile
	if data, err := readLimited(filepath.Join(p.Root, rel)); err == nil {
		f = newSourceFile(rel, data)
	}
	if p.files == nil {
		p.files = map[string]*SourceFile{}
	}
	p.files[rel] = f
	return f
}

// Exists reports whether the app has the file.
func (p *Project) Exists(rel string) bool {
	_, err := os.Stat(filepath.Join(p.Root, rel))
	return err == nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // opened read-only: closing loses nothing
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("read %s: is a directory", path)
	}
	buf := make([]byte, min(st.Size(), maxFileSize))
	n, err := f.Read(buf)
	if err != nil && n == 0 && len(buf) > 0 {
		return nil, err
	}
	return buf[:n], nil
}

// loadFiles reads the app's source inputs (everything but config and image).
func (p *Project) loadFiles(ctx context.Context, dockerfile string, git func(context.Context, string) ([]string, error)) error {
	if dockerfile == "" {
		dockerfile = DockerfilePath
	}
	if data, err := readLimited(filepath.Join(p.Root, dockerfile)); err == nil {
		p.Dockerfile = ParseDockerfile(dockerfile, data)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", dockerfile, err)
	}
	p.Entrypoint = p.File(EntrypointPath)
	p.Production = p.File(ProductionPath)
	p.Routes = p.File(RoutesPath)
	p.Application = p.File(ApplicationPath)
	p.Gemfile = p.File(GemfilePath)
	if git != nil {
		tracked, err := git(ctx, p.Root)
		if err != nil {
			return err
		}
		p.Tracked = tracked
	}
	return nil
}

// Rails reports a Rails app.
func (p *Project) Rails() bool {
	return p.Application != nil && strings.Contains(p.Application.Text(), "Rails")
}

// Ruby reports a Ruby app (a Gemfile, or a ruby base image).
func (p *Project) Ruby() bool {
	if p.Gemfile != nil {
		return true
	}
	for _, s := range p.stages() {
		if strings.Contains(s.Base, "ruby") {
			return true
		}
	}
	return false
}

func (p *Project) stages() []*Stage {
	if p.Dockerfile == nil {
		return nil
	}
	return p.Dockerfile.Stages
}

var (
	rubyVersionRE  = regexp.MustCompile(`(\d+)\.(\d+)`)
	gemfileRubyRE  = regexp.MustCompile(`^\s*ruby\s+["'](?:ruby-)?(\d+\.\d+[^"']*)["']`)
	rubyImageTagRE = regexp.MustCompile(`(?:^|/)ruby:(\d+\.\d+)`)
)

// RubyVersion returns the app's Ruby version (major, minor) and where it was
// read: .ruby-version, the Dockerfile's ARG RUBY_VERSION or FROM ruby:X.Y,
// or the Gemfile's ruby line. ok is false when none says.
func (p *Project) RubyVersion() (major, minor int, file string, line int, ok bool) {
	parse := func(s string) (int, int, bool) {
		m := rubyVersionRE.FindStringSubmatch(s)
		if m == nil {
			return 0, 0, false
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		return a, b, true
	}
	if f := p.File(RubyVersionPath); f != nil && len(f.Lines) > 0 {
		if a, b, ok := parse(f.Lines[0]); ok {
			return a, b, f.Path, 1, true
		}
	}
	if d := p.Dockerfile; d != nil {
		if v, l, found := d.Arg("RUBY_VERSION"); found {
			if a, b, ok := parse(v); ok {
				return a, b, d.Path, l, true
			}
		}
		for _, s := range d.Stages {
			if m := rubyImageTagRE.FindStringSubmatch(s.Base); m != nil {
				if a, b, ok := parse(m[1]); ok {
					return a, b, d.Path, s.Line, true
				}
			}
		}
	}
	if m, found := p.Gemfile.First(gemfileRubyRE); found {
		if a, b, ok := parse(gemfileRubyRE.FindStringSubmatch(m.Text)[1]); ok {
			return a, b, p.Gemfile.Path, m.Line, true
		}
	}
	return 0, 0, "", 0, false
}

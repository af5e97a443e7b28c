package fleetops

// The app image build: BuildKit through docker buildx (the engine's own
// BuildKit, docker driver), from a clean clone of HEAD unless
// builder.context is set, on the local engine or the remote builder's.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/build"
	"github.com/dockerkamal/docker-kamal/pkg/output"
)

// maxUncommittedListed bounds the uncommitted files the warning names.
const maxUncommittedListed = 10

// appBuilder builds the app image (deploy.Builder).
type appBuilder struct{ s *Session }

func (b appBuilder) Build(ctx context.Context, version string) (string, error) {
	image := b.s.imageRef(version)
	opts, err := b.s.buildOptions(ctx, version)
	if err != nil {
		return "", err
	}
	var outw, errw *redactWriter
	if b.s.Opts.Verbose {
		outw, errw = newRedactWriter(b.s.Opts.Stdout, b.s.out.Redactor), newRedactWriter(b.s.Opts.Stderr, b.s.out.Redactor)
		opts.Stdout, opts.Stderr = outw, errw
	}
	_, err = build.Build(ctx, opts)
	outw.Flush()
	errw.Flush()
	if err != nil {
		return "", buildError(ctx, image, &redactedError{err: err, msg: b.s.out.Redact(err.Error())})
	}
	return image, nil
}

// buildOptions maps the builder section onto one buildx build of version.
func (s *Session) buildOptions(ctx context.Context, version string) (build.Options, error) {
	cfg := s.Cfg.Builder
	flags, err := s.appEngine(ctx)
	if err != nil {
		return build.Options{}, err
	}
	root, err := s.buildRoot(ctx)
	if err != nil {
		return build.Options{}, err
	}
	buildCtx := root
	if cfg.Context != "" {
		buildCtx = absUnder(s.appDir(), cfg.Context)
	}
	dockerfile := cfg.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	o := build.Options{
		DockerFlags: flags,
		Context:     buildCtx,
		Dockerfile:  absUnder(root, dockerfile),
		Target:      cfg.Target,
		BuildArgs:   cfg.Args,
		SSH:         cfg.SSH,
		NoCache:     s.Opts.NoCache,
		Provenance:  cfg.Provenance,
		SBOM:        cfg.SBOM,
		Tags:        []string{s.imageRef(version), s.imageRef("latest")},
		Labels:      map[string]string{"service": s.Cfg.Service},
	}
	if len(cfg.Arch) > 0 {
		o.Platform = build.Platform(cfg.Arch[0])
	}
	for _, name := range cfg.Secrets {
		if v, ok := s.Cfg.Secret(name); ok {
			if o.Secrets == nil {
				o.Secrets = map[string]string{}
			}
			o.Secrets[name] = v
		}
	}
	s.buildCache(&o)
	return o, nil
}

// buildRoot is where the build runs from, as with Kamal: a clean clone of
// HEAD when the app is in git and builder.context is not set (warning of
// uncommitted changes it leaves out), else the app directory.
func (s *Session) buildRoot(ctx context.Context) (string, error) {
	dir := s.appDir()
	if s.Cfg.Builder.Context != "" || !build.InGit(ctx, dir) {
		return dir, nil
	}
	c, err := build.CloneHEAD(ctx, dir)
	if err != nil {
		return "", err
	}
	if n := len(c.Uncommitted); n > 0 {
		list := c.Uncommitted
		if n > maxUncommittedListed {
			list = append(list[:maxUncommittedListed:maxUncommittedListed], fmt.Sprintf("... and %d more", n-maxUncommittedListed))
		}
		s.out.Warn("building from a clean clone of HEAD, so these uncommitted changes are not in the image (commit them, or set builder.context: . to build the work tree):\n  %s",
			strings.Join(list, "\n  "))
	}
	return c.Dir, nil
}

// buildCache sets the registry cache of builder.cache (cache.go).
func (s *Session) buildCache(o *build.Options) {}

// redactedError is err with secrets masked in its message.
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// absUnder is p, relative to dir unless absolute.
func absUnder(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// redactWriter writes whole lines to w with secrets masked.
type redactWriter struct {
	mu  sync.Mutex
	w   io.Writer
	r   output.Redactor
	buf bytes.Buffer
}

func newRedactWriter(w io.Writer, r output.Redactor) *redactWriter {
	if w == nil {
		w = io.Discard
	}
	return &redactWriter{w: w, r: r}
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.buf.Write(p)
	for {
		i := bytes.IndexByte(rw.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := rw.buf.Next(i + 1)
		if _, err := io.WriteString(rw.w, rw.r.Redact(string(line))); err != nil {
			return len(p), err
		}
	}
}

// Flush writes what is left of a last unterminated line.
func (rw *redactWriter) Flush() {
	if rw == nil {
		return
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.buf.Len() > 0 {
		_, _ = io.WriteString(rw.w, rw.r.Redact(rw.buf.String())) // the build is over; a lost tail is all that fails
		rw.buf.Reset()
	}
}

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
	"time"

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
	if err := b.s.cacheLogin(ctx, opts.DockerFlags); err != nil {
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
	if err := b.s.pushCache(ctx, opts.DockerFlags); err != nil {
		return "", err
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

// buildCache sets builder.cache's registry cache: the docker driver cannot
// export a cache to a registry, so the cache travels inline, in an image
// of its own (Kamal's <image>-build-cache, or cache.image) that is tagged
// by the build, pushed after it (pushCache) and imported by later builds
// on any engine.
func (s *Session) buildCache(o *build.Options) {
	ref := s.cacheRef()
	if ref == "" {
		return
	}
	o.CacheFrom = []string{"type=registry,ref=" + ref}
	o.CacheTo = []string{"type=inline"}
	o.Tags = append(o.Tags, ref)
}

// cacheRef is the registry cache image, "" without one.
func (s *Session) cacheRef() string {
	c := s.Cfg.Builder.Cache
	if c == nil || c.Type != "registry" || s.Cfg.Registry == nil {
		return ""
	}
	img := c.Image
	if img == "" {
		img = s.imageRepo() + "-build-cache"
	} else if s.Cfg.Registry.Server != "" && !strings.HasPrefix(img, s.Cfg.Registry.Server+"/") {
		img = s.Cfg.Registry.Server + "/" + img
	}
	return img
}

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

// cacheLogin logs the building engine in to the registry (the password on
// stdin) before a build with the registry cache, which reads the cache
// image from there.
func (s *Session) cacheLogin(ctx context.Context, flags []string) error {
	reg := s.Cfg.Registry
	login := registryLoginArgs(reg)
	if s.cacheRef() == "" || login == nil {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, registryLoginTimeout)
	defer cancel()
	if b, err := execDocker(lctx, strings.NewReader(reg.Password), append(dockerArgs(flags), login...)...); err != nil {
		return fmt.Errorf("log in to registry %s: %w: %s", reg.Server, err, s.out.Redact(output.LastLines(string(b), 5)))
	}
	return nil
}

// pushCache pushes the registry cache image from the engine that built it.
func (s *Session) pushCache(ctx context.Context, flags []string) error {
	ref := s.cacheRef()
	if ref == "" {
		return nil
	}
	t0 := time.Now()
	pctx, cancel := context.WithTimeout(ctx, registryPushTimeout)
	defer cancel()
	if b, err := execDocker(pctx, nil, append(dockerArgs(flags), "push", ref)...); err != nil {
		return fmt.Errorf("push build cache %s: %w: %s", ref, err, s.out.Redact(output.LastLines(string(b), 5)))
	}
	s.out.Step("", "push build cache "+ref, "done", time.Since(t0))
	return nil
}

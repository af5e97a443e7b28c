package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// Image names and recipe inputs. Every image is tagged with a hash of its
// recipe (the committed files under e2e/images plus the parameters below), so
// it is built once and reused until the recipe changes.
const (
	// TraefikVersion is the Traefik release built from its Go module.
	TraefikVersion = "3.6.12"

	// Debian releases the roots are built from: bookworm for the host and
	// the Go sample app's stack, trixie for the Rails stack (Ruby 3.3,
	// Rails 7.2, PostgreSQL 17).
	bookworm = "bookworm"
	trixie   = "trixie"

	hostPackages = "openssh-server,docker.io,ca-certificates,iproute2,curl,procps,iptables"
	svcPackages  = "postgresql-15,redis-server,ca-certificates,procps"
	appPackages  = "ca-certificates,curl"

	// SampleAppRepo is the repository name of sample app images.
	SampleAppRepo = "kamal-e2e-app"
)

// svcRemove slims the PostgreSQL/Redis root: the JIT (LLVM) is optional.
var svcRemove = []string{
	"usr/lib/x86_64-linux-gnu/libLLVM-14.so*",
	"usr/lib/postgresql/15/lib/bitcode",
	"usr/lib/postgresql/15/lib/llvmjit*",
}

// CacheDir is where builds keep their work files (debootstrap's .deb cache,
// the Traefik binary, saved image archives). KAMAL_E2E_CACHE overrides it.
func CacheDir() string {
	if d := os.Getenv("KAMAL_E2E_CACHE"); d != "" {
		return d
	}
	return "/var/tmp/kamal-e2e"
}

// ImagesDir is the directory of the committed image recipes (e2e/images).
func ImagesDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("harness: cannot locate source directory")
	}
	return filepath.Join(filepath.Dir(file), "..", "images")
}

// recipeHash hashes the named files (relative to ImagesDir, directories
// walked) and extra strings, returning 12 hex digits.
func recipeHash(paths []string, extra ...string) (string, error) {
	h := sha256.New()
	dir := ImagesDir()
	var files []string
	for _, p := range paths {
		full := filepath.Join(dir, p)
		err := filepath.WalkDir(full, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("hash recipe %s: %w", p, err)
		}
	}
	sort.Strings(files)
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("hash recipe: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(b))
		h.Write(b)
	}
	for _, e := range extra {
		fmt.Fprintf(h, "%s\x00", e)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// withLock runs fn holding an exclusive file lock named name under CacheDir,
// so parallel test binaries build an image once.
func withLock(name string, fn func() error) error {
	dir := filepath.Join(CacheDir(), "locks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create lock dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open lock %s: %w", name, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file releases it too
	return fn()
}

// ensure returns ref after building it with build when it is missing.
// Builds of the same ref are serialised across processes.
func ensure(ctx context.Context, ref string, build func() error) (string, error) {
	if ok, err := imageExists(ctx, ref); err != nil || ok {
		return ref, err
	}
	lock := strings.NewReplacer("/", "_", ":", "_").Replace(ref)
	err := withLock(lock, func() error {
		if ok, err := imageExists(ctx, ref); err != nil || ok {
			return err
		}
		return build()
	})
	if err != nil {
		return "", fmt.Errorf("build image %s: %w", ref, err)
	}
	return ref, nil
}

// runScript runs a script from ImagesDir with output going to the build log.
func runScript(ctx context.Context, script string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(ImagesDir(), script), args...)
	cmd.Env = append(os.Environ(), "KAMAL_E2E_CACHE="+CacheDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &CommandError{Args: append([]string{script}, args...), Stdout: string(out), Err: err}
	}
	return nil
}

// dockerBuild builds the context directory dir (relative to ImagesDir, or
// absolute) tagged with tags.
func dockerBuild(ctx context.Context, dir string, buildArgs map[string]string, tags ...string) error {
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(ImagesDir(), dir)
	}
	args := []string{"build", "-q", "--force-rm", "--label", "kamal-e2e-image=1"}
	for _, k := range sortedKeys(buildArgs) {
		args = append(args, "--build-arg", k+"="+buildArgs[k])
	}
	for _, t := range tags {
		args = append(args, "-t", t)
	}
	args = append(args, dir)
	if _, err := docker(ctx, args...); err != nil {
		return fmt.Errorf("docker build %s: %w", dir, err)
	}
	return nil
}

// rootfsImage returns a debootstrap minbase root of the Debian release
// suite with the given packages, imported as an image (one to two minutes
// to build cold). Paths matching remove (globs relative to the root) are
// deleted.
func rootfsImage(ctx context.Context, name, suite, packages string, remove ...string) (string, error) {
	h, err := recipeHash([]string{"build-rootfs.sh"}, append([]string{suite, packages}, remove...)...)
	if err != nil {
		return "", err
	}
	ref := "kamal-e2e-rootfs:" + name + "-" + h
	return ensure(ctx, ref, func() error {
		// One debootstrap at a time: they share the .deb cache.
		return withLock("debootstrap", func() error {
			return runScript(ctx, "build-rootfs.sh", append([]string{"-s", suite, ref, packages}, remove...)...)
		})
	})
}

// HostImage returns the harness host image (Debian bookworm with OpenSSH and
// Docker), building it when missing.
func HostImage(ctx context.Context) (string, error) {
	base, err := rootfsImage(ctx, "host", bookworm, hostPackages, "etc/ssh/ssh_host_*")
	if err != nil {
		return "", err
	}
	h, err := recipeHash([]string{"host"}, base)
	if err != nil {
		return "", err
	}
	return ensure(ctx, "kamal-e2e-host:"+h, func() error {
		return dockerBuild(ctx, "host", map[string]string{"BASE": base}, "kamal-e2e-host:"+h)
	})
}

// TraefikImage returns the Traefik image built from its Go module (FROM
// scratch, binary at /traefik, CA certificates), tagged
// kamal-e2e-traefik:v3.6.12. The first build takes about 5 minutes.
func TraefikImage(ctx context.Context) (string, error) {
	h, err := recipeHash([]string{"build-traefik.sh"}, TraefikVersion)
	if err != nil {
		return "", err
	}
	pinned := "kamal-e2e-traefik:v" + TraefikVersion + "-" + h
	ref := "kamal-e2e-traefik:v" + TraefikVersion
	if _, err := ensure(ctx, pinned, func() error {
		cmd := exec.CommandContext(ctx, filepath.Join(ImagesDir(), "build-traefik.sh"), pinned)
		cmd.Env = append(os.Environ(), "KAMAL_E2E_CACHE="+CacheDir(), "TRAEFIK_VERSION="+TraefikVersion)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &CommandError{Args: []string{"build-traefik.sh", pinned}, Stdout: string(out), Err: err}
		}
		return nil
	}); err != nil {
		return "", err
	}
	return tagAlias(ctx, pinned, ref)
}

// PostgresImage returns a PostgreSQL 15 image from Debian packages that
// honours POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB (and
// POSTGRES_HOST_AUTH_METHOD, PGDATA, /docker-entrypoint-initdb.d) like the
// official image, with data in /var/lib/postgresql/data and port 5432.
// It is tagged kamal-e2e-postgres:15.
func PostgresImage(ctx context.Context) (string, error) {
	return serviceImage(ctx, bookwormServices, "postgres", "kamal-e2e-postgres:15", map[string]string{"PG_MAJOR": "15"})
}

// RedisImage returns a Redis 7 image from Debian packages (port 6379, data
// in /data, arguments after the image passed to redis-server), tagged
// kamal-e2e-redis:7.
func RedisImage(ctx context.Context) (string, error) {
	return serviceImage(ctx, bookwormServices, "redis", "kamal-e2e-redis:7", nil)
}

// serviceRoot is the root the PostgreSQL and Redis images of one Debian
// release share.
type serviceRoot struct {
	name, suite, packages string
	remove                []string
}

var bookwormServices = serviceRoot{"svc", bookworm, svcPackages, svcRemove}

// serviceImage builds the recipe in dir over root with buildArgs, tagged
// with alias (and alias-<recipe hash>).
func serviceImage(ctx context.Context, root serviceRoot, dir, alias string, buildArgs map[string]string) (string, error) {
	base, err := rootfsImage(ctx, root.name, root.suite, root.packages, root.remove...)
	if err != nil {
		return "", err
	}
	extra := []string{base}
	for _, k := range sortedKeys(buildArgs) {
		extra = append(extra, k+"="+buildArgs[k])
	}
	h, err := recipeHash([]string{dir}, extra...)
	if err != nil {
		return "", err
	}
	pinned := alias + "-" + h
	args := map[string]string{"BASE": base}
	for k, v := range buildArgs {
		args[k] = v
	}
	if _, err := ensure(ctx, pinned, func() error {
		return dockerBuild(ctx, dir, args, pinned)
	}); err != nil {
		return "", err
	}
	return tagAlias(ctx, pinned, alias)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tagAlias points alias at pinned (when it does not already) and returns alias.
func tagAlias(ctx context.Context, pinned, alias string) (string, error) {
	want, err := ImageID(ctx, pinned)
	if err != nil {
		return "", err
	}
	if got, err := ImageID(ctx, alias); err == nil && got == want {
		return alias, nil
	}
	if _, err := docker(ctx, "tag", pinned, alias); err != nil {
		return "", fmt.Errorf("tag %s as %s: %w", pinned, alias, err)
	}
	return alias, nil
}

// copyFile copies src to dst with mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// appBaseImage is the sample app's base: Debian minbase with curl and CA
// certificates, one layer of about 100 MB.
func appBaseImage(ctx context.Context) (string, error) {
	return rootfsImage(ctx, "app", bookworm, appPackages)
}

// BuildSampleApp builds the sample app (e2e/sampleapp) with version baked in
// and returns its image reference, "kamal-e2e-app:<version>". Images of
// different versions share every layer but the top one (the binary, a few
// MB) over a ~100 MB base layer. The image is rebuilt only when the app's
// source or recipe changed. version must be a valid Docker tag.
func BuildSampleApp(ctx context.Context, version string) (string, error) {
	if !validTag(version) {
		return "", fmt.Errorf("build sample app: version %q is not a valid image tag", version)
	}
	base, err := appBaseImage(ctx)
	if err != nil {
		return "", err
	}
	src := filepath.Join(ImagesDir(), "..", "sampleapp")
	h, err := recipeHash([]string{"app", "../sampleapp", "../../go.sum"}, base, version, runtime.Version())
	if err != nil {
		return "", err
	}
	ref := SampleAppRepo + ":" + version
	if got, err := docker(ctx, "image", "inspect", "--format", `{{index .Config.Labels "kamal-e2e.recipe"}}`, ref); err == nil && got == h {
		return ref, nil
	}
	err = withLock("sampleapp-"+version, func() error {
		if got, err := docker(ctx, "image", "inspect", "--format", `{{index .Config.Labels "kamal-e2e.recipe"}}`, ref); err == nil && got == h {
			return nil
		}
		dir, err := os.MkdirTemp("", "kamal-e2e-app-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := copyFile(filepath.Join(ImagesDir(), "app", "Dockerfile"), filepath.Join(dir, "Dockerfile"), 0o644); err != nil {
			return err
		}
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, "sampleapp"),
			"-ldflags", "-s -w -X main.version="+version, ".")
		build.Dir = src
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return &CommandError{Args: build.Args, Stdout: string(out), Err: err}
		}
		_, err = docker(ctx, "build", "-q", "--force-rm", "--label", "kamal-e2e-image=1", "--label", "kamal-e2e.recipe="+h,
			"--build-arg", "BASE="+base, "--build-arg", "VERSION="+version, "-t", ref, dir)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("build sample app %s: %w", version, err)
	}
	return ref, nil
}

func validTag(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Images are the references of the images the e2e suite uses.
type Images struct {
	Host, Traefik, Postgres, Redis, App string
	// RailsBase, RailsPostgres and RailsRedis are the Rails stack's (see
	// RailsBaseImage).
	RailsBase, RailsPostgres, RailsRedis string
	// Pebble is the test ACME server (see PebbleImage).
	Pebble string
}

// BuildAll builds (or reuses) the host, Traefik, PostgreSQL, Redis, sample
// app ("v1") and Rails stack images in parallel. Cold, it takes about as
// long as the Traefik build (5 to 8 minutes on 2 cores; the five
// debootstraps run one at a time beside it); warm, under a second.
func BuildAll(ctx context.Context) (Images, error) {
	var imgs Images
	jobs := []struct {
		ref   *string
		build func(context.Context) (string, error)
	}{
		{&imgs.Traefik, TraefikImage},
		{&imgs.Host, HostImage},
		{&imgs.Postgres, PostgresImage},
		{&imgs.Redis, RedisImage},
		{&imgs.App, func(ctx context.Context) (string, error) { return BuildSampleApp(ctx, "v1") }},
		{&imgs.RailsBase, RailsBaseImage},
		{&imgs.RailsPostgres, RailsPostgresImage},
		{&imgs.RailsRedis, RailsRedisImage},
		{&imgs.Pebble, PebbleImage},
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			*j.ref, errs[i] = j.build(ctx)
		}()
	}
	wg.Wait()
	return imgs, errors.Join(errs...)
}

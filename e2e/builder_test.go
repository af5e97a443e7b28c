package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// The build secret of the builder tests: it must never appear in the
// output, the image or its history.
const buildSecret = "bk-secret-5e0c9a7f13"

// builderDockerfile exercises builder.args, target, secrets and ssh: the
// secret's hash (never the secret) and the agent's key list land in the
// image; the "unused" stage comes after the target and must not be built.
const builderDockerfile = `FROM %[1]s AS app
ARG GREETING
RUN --mount=type=secret,id=BUILD_TOKEN sha256sum /run/secrets/BUILD_TOKEN | cut -d' ' -f1 > /token.sha && echo "$GREETING" > /greeting
RUN --mount=type=ssh,id=deploykey ssh-add -l > /ssh-keys
COPY file /file
RUN date +%%s%%N > /built-at

FROM app AS unused
RUN touch /unused-stage
`

const builderDeployYML = `service: kamal-e2e-bk
image: kamal-e2e-bk
servers:
  - 192.0.2.1
builder:
  arch: amd64
  dockerfile: Dockerfile.app
  target: app
  args:
    GREETING: hello-from-args
  secrets:
    - BUILD_TOKEN
  ssh: deploykey=%[1]s
%[2]s`

// stepCached matches BuildKit's plain progress for a cached last step.
var stepCached = regexp.MustCompile(`(?m)^#\d+ \[app 5/5\] RUN date.*\n#\d+ CACHED$`)

// TestBuilderBuildKit builds with BuildKit (buildx, the engine's own
// BuildKit) from a clean clone of HEAD: builder.arch, dockerfile, target,
// args, secrets and ssh each show in the image; uncommitted changes are
// left out with a warning; a second build is cached and --no-cache runs
// every step again; builder.context builds the work tree instead; the
// secret is in no output and no layer history.
func TestBuilderBuildKit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	base, err := harness.HostImage(ctx) // has ssh-add for the ssh mount
	if err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	app := t.TempDir()
	key, fingerprint := writeBuildKey(t, filepath.Join(t.TempDir(), "deploy_key"))
	deployYML := func(extra string) {
		writeFile(t, filepath.Join(app, "config", "deploy.yml"), fmt.Sprintf(builderDeployYML, key, extra), 0o644)
	}
	deployYML("")
	writeFile(t, filepath.Join(app, "Dockerfile.app"), fmt.Sprintf(builderDockerfile, base), 0o644)
	writeFile(t, filepath.Join(app, "file"), "committed\n", 0o644)
	writeFile(t, filepath.Join(app, ".kamal", "secrets"), "BUILD_TOKEN="+buildSecret+"\n", 0o600)
	gitCommit(t, app)
	writeFile(t, filepath.Join(app, "file"), "uncommitted\n", 0o644)
	const image = "kamal-e2e-bk"
	t.Cleanup(func() {
		exec.Command("docker", "image", "rm", "-f", image+":bk1", image+":bk2", image+":latest").Run() //nolint:errcheck // best effort
	})
	log := &outputLog{}
	env := []string{"TMPDIR=" + t.TempDir()}
	kamal := func(args ...string) kamalRun { return plugin.kamal(ctx, app, env, log, args...) }
	t.Cleanup(func() {
		if strings.Contains(log.String(), buildSecret) {
			t.Errorf("the build secret appeared in the plugin's output")
		}
		if t.Failed() {
			t.Logf("plugin output:\n%s", log.String())
		}
	})
	cat := func(ref, path string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--entrypoint", "cat", ref, path).CombinedOutput()
		if err != nil {
			t.Fatalf("read %s in %s: %v %s", path, ref, err, out)
		}
		return strings.TrimSpace(string(out))
	}

	// The first build runs every step (--no-cache): an earlier run's cache
	// would hold another key's ssh-add output.
	t0 := time.Now()
	r := kamal("build", "push", "-v", "--no-cache", "--version", "bk1").must(t)
	t.Logf("first build took %v", time.Since(t0).Round(time.Millisecond))
	ref := image + ":bk1"
	if !strings.Contains(r.out, "docker buildx build") && !strings.Contains(r.out, "#1 ") {
		t.Errorf("the build did not run through BuildKit:\n%s", r.out)
	}
	if !strings.Contains(r.out, "WARN building from a clean clone of HEAD") || !strings.Contains(r.out, "M file") {
		t.Errorf("no warning naming the uncommitted change:\n%s", r.out)
	}
	sum := sha256.Sum256([]byte(buildSecret))
	for path, want := range map[string]string{
		"/file":      "committed",
		"/greeting":  "hello-from-args",
		"/token.sha": hex.EncodeToString(sum[:]),
	} {
		if got := cat(ref, path); got != want {
			t.Errorf("%s in the image is %q, want %q", path, got, want)
		}
	}
	if keys := cat(ref, "/ssh-keys"); !strings.Contains(keys, fingerprint) {
		t.Errorf("the ssh mount did not carry the key %s: %q", fingerprint, keys)
	}
	if out, err := exec.CommandContext(ctx, "docker", "run", "--rm", "--entrypoint", "test", ref, "-e", "/unused-stage").CombinedOutput(); err == nil {
		t.Errorf("the stage after the target was built: %s", out)
	}
	inspect := harness.MustDocker(t, "image", "inspect", "--format", "{{.Architecture}} {{index .Config.Labels \"service\"}}", ref)
	if strings.TrimSpace(inspect) != "amd64 kamal-e2e-bk" {
		t.Errorf("image architecture and service label: %q", inspect)
	}
	if hist := harness.MustDocker(t, "history", "--no-trunc", ref); strings.Contains(hist, buildSecret) {
		t.Errorf("the build secret is in the image history")
	}
	builtAt := cat(ref, "/built-at")

	r = kamal("build", "push", "-v", "--version", "bk1").must(t)
	if got := cat(ref, "/built-at"); got != builtAt || !stepCached.MatchString(r.out) {
		t.Errorf("a second build was not cached (built-at %s then %s):\n%s", builtAt, got, r.out)
	}
	r = kamal("build", "push", "-v", "--no-cache", "--version", "bk1").must(t)
	if got := cat(ref, "/built-at"); got == builtAt || stepCached.MatchString(r.out) {
		t.Errorf("--no-cache reused the cache (built-at %s then %s):\n%s", builtAt, got, r.out)
	}

	deployYML("  context: .\n")
	r = kamal("build", "push", "--version", "bk2").must(t)
	if got := cat(image+":bk2", "/file"); got != "uncommitted" {
		t.Errorf("builder.context: . built %q, want the work tree's file", got)
	}
	if strings.Contains(r.out, "WARN") {
		t.Errorf("a build of the work tree warned of uncommitted changes:\n%s", r.out)
	}
}

// gitCommit makes dir a git repository with everything in it committed.
func gitCommit(t testing.TB, dir string) {
	t.Helper()
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-qm", "app"}} {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
}

// writeBuildKey writes a fresh ed25519 private key (OpenSSH format) and
// returns its path and SHA256 fingerprint.
func writeBuildKey(t testing.TB, path string) (string, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "build key")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, ssh.FingerprintSHA256(sshPub)
}

const remoteBuilderYML = `service: kamal-e2e-rb
image: kamal-e2e-rb
servers:
  web:
    hosts:
      - %[1]s
      - %[2]s
proxy:
  app_port: 3000
  healthcheck:
    path: /up
env:
  clear:
    PORT: "3000"
builder:
  arch: %[3]s
  local: false
  remote: ssh://root@%[1]s
readiness_delay: 1
deploy_timeout: 60
drain_timeout: 2
ssh:
  config: %[4]s
`

// TestBuilderRemote: with builder.remote (and local: false) the image is
// built by the remote host's engine, reached over our SSH transport, and
// ships from there: the builder host, a deploy target too, already holds
// it, the other host gets it streamed, and the local engine never has it.
func TestBuilderRemote(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 2)
	builder, other := f.Hosts[0], f.Hosts[1]
	// The remote builder's engine has the base image; this one is built on.
	if err := builder.LoadImage(ctx, imgs.App); err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	writeFile(t, filepath.Join(app, "config", "deploy.yml"), fmt.Sprintf(remoteBuilderYML, builder.Addr, other.Addr, "amd64", f.SSHConfig), 0o644)
	writeFile(t, filepath.Join(app, "Dockerfile"), "FROM "+imgs.App+"\nENV APP_VERSION=remote1\n", 0o644)
	const ref = "kamal-e2e-rb:rb1"
	t.Cleanup(func() {
		exec.Command("docker", "image", "rm", "-f", ref, "kamal-e2e-rb:latest").Run() //nolint:errcheck // best effort
	})
	log := &outputLog{}
	env := []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik, "DOCKER_KAMAL_SHIP_COMPRESS=0"}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin output:\n%s", log.String())
		}
	})

	r := plugin.kamal(ctx, app, env, log, "setup", "--version", "rb1").must(t)
	t.Logf("setup with the remote builder took %v", r.took.Round(time.Millisecond))
	if exec.CommandContext(ctx, "docker", "image", "inspect", ref).Run() == nil {
		t.Errorf("%s is in the local engine: the build did not run on the remote builder", ref)
	}
	for _, h := range f.Hosts {
		if ok, err := h.HasImage(ctx, ref); !ok {
			t.Errorf("%s lacks %s: %v", h.Name, ref, err)
		}
	}
	if want := fmt.Sprintf("[%s] ship %s: already present", builder.Addr, ref); !strings.Contains(r.out, want) {
		t.Errorf("the builder host was sent its own image (no %q):\n%s", want, r.out)
	}
	for _, h := range f.Hosts {
		waitVersion(t, ctx, f, "http://"+h.Addr.String()+"/", "remote1")
	}
}

// TestBuilderArchMismatch: an image built for another architecture than
// the hosts' is refused before it ships, naming the host, both
// architectures and what to set; the host never gets it.
func TestBuilderArchMismatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 1)
	h := f.Hosts[0]
	app := t.TempDir()
	// No remote builder: the local engine builds for arm64.
	yml := fmt.Sprintf("service: kamal-e2e-rb\nimage: kamal-e2e-rb\nservers:\n  - %s\nbuilder:\n  arch: arm64\nssh:\n  config: %s\n", h.Addr, f.SSHConfig)
	writeFile(t, filepath.Join(app, "config", "deploy.yml"), yml, 0o644)
	// No RUN step: BuildKit makes an arm64 image here without emulation.
	writeFile(t, filepath.Join(app, "Dockerfile"), "FROM scratch\nCOPY file /file\n", 0o644)
	writeFile(t, filepath.Join(app, "file"), "arm64 payload\n", 0o644)
	const ref = "kamal-e2e-rb:am1"
	t.Cleanup(func() {
		exec.Command("docker", "image", "rm", "-f", ref, "kamal-e2e-rb:latest").Run() //nolint:errcheck // best effort
	})
	r := plugin.kamal(ctx, app, nil, nil, "build", "deliver", "--version", "am1")
	if r.err == nil {
		t.Fatalf("an arm64 image was delivered to an amd64 host:\n%s", r.out)
	}
	want := fmt.Sprintf("%s is built for arm64 but host %s runs amd64", ref, h.Addr)
	if !strings.Contains(r.out, want) || !strings.Contains(r.out, "set builder.arch: amd64") {
		t.Errorf("the refusal does not say %q and what to set:\n%s", want, r.out)
	}
	if arch := harness.MustDocker(t, "image", "inspect", "--format", "{{.Architecture}}", ref); strings.TrimSpace(arch) != "arm64" {
		t.Errorf("the local build made a %s image, want arm64", arch)
	}
	if ok, _ := h.HasImage(ctx, ref); ok {
		t.Errorf("%s reached the host despite the mismatch", ref)
	}
}

const cacheBuilderYML = `service: kamal-e2e-bc
image: kamal-e2e-bc
servers:
  - %[1]s
registry:
  server: %[2]s
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  arch: amd64
  local: false
  remote: ssh://root@%[1]s
  cache:
    type: registry
ssh:
  config: %[3]s
`

// cacheStep matches BuildKit's plain progress for the expensive step
// cached (after the layers it pulls from the cache image).
var cacheStep = regexp.MustCompile(`(?m)^#\d+ \[\d/\d\] RUN sleep 3.*\n(?:#\d+ pulling .*\n)*#\d+ CACHED$`)

// TestBuilderCache: with cache.type registry, a build pushes its cache
// (inline, in Kamal's <image>-build-cache image) to the registry, and a
// build on an engine that never built this app, another remote builder,
// reuses it: the expensive step is CACHED and its output is the first
// build's.
func TestBuilderCache(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 2)
	reg := harness.StartRegistry(t, f, "kamal", registryTestPassword)
	if err := f.LoadImage(ctx, imgs.App); err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	writeFile(t, filepath.Join(app, "Dockerfile"), "FROM "+imgs.App+"\nCOPY file /file\nRUN sleep 3 && date +%s%N > /stamp\n", 0o644)
	writeFile(t, filepath.Join(app, "file"), "cached build\n", 0o644)
	writeFile(t, filepath.Join(app, ".kamal", "secrets"), "KAMAL_REGISTRY_PASSWORD="+registryTestPassword+"\n", 0o600)
	log := &outputLog{}
	t.Cleanup(func() {
		if strings.Contains(log.String(), registryTestPassword) {
			t.Errorf("the registry password appeared in the plugin's output")
		}
		if t.Failed() {
			t.Logf("plugin output:\n%s", log.String())
		}
	})
	repo := reg.Server + "/kamal-e2e-bc"
	stamp := func(h *harness.Host, ref string) string {
		t.Helper()
		out, err := h.Docker(ctx, "run", "--rm", "--entrypoint", "cat", ref, "/stamp")
		if err != nil {
			t.Fatalf("read /stamp of %s on %s: %v", ref, h.Name, err)
		}
		return strings.TrimSpace(out)
	}
	build := func(h *harness.Host, version string) kamalRun {
		t.Helper()
		writeFile(t, filepath.Join(app, "config", "deploy.yml"), fmt.Sprintf(cacheBuilderYML, h.Addr, reg.Server, f.SSHConfig), 0o644)
		return plugin.kamal(ctx, app, nil, log, "build", "push", "-v", "--version", version).must(t)
	}

	first, second := f.Hosts[0], f.Hosts[1]
	r := build(first, "c1")
	if cacheStep.MatchString(r.out) {
		t.Fatalf("the first build found a cache:\n%s", r.out)
	}
	if !strings.Contains(r.out, "push build cache "+repo+"-build-cache") {
		t.Errorf("the build cache was not pushed:\n%s", r.out)
	}
	r = build(second, "c2")
	t.Logf("the build on a fresh engine with the registry cache took %v", r.took.Round(time.Millisecond))
	if !cacheStep.MatchString(r.out) {
		t.Errorf("the build on a fresh engine did not reuse the registry cache:\n%s", r.out)
	}
	if a, b := stamp(first, repo+":c1"), stamp(second, repo+":c2"); a != b {
		t.Errorf("the cached step ran again: /stamp %s then %s", a, b)
	}
}

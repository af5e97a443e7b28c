package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pluginInstall is a DOCKER_CONFIG directory holding the plugin and the
// sidecar binary beside it, as install.sh lays them out.
type pluginInstall struct {
	dockerConfig string
}

// installPlugin builds docker-kamal and kamal-sidecar from this checkout
// into a throwaway DOCKER_CONFIG, so the tests drive the plugin through the
// real docker CLI exactly as a user does.
func installPlugin(t testing.TB) *pluginInstall {
	t.Helper()
	dir := t.TempDir()
	plugins := filepath.Join(dir, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	// The version makes the sidecar image tag unique to this build, so a
	// host never keeps running a sidecar from an older checkout.
	version := fmt.Sprintf("e2e-%x", time.Now().UnixNano())
	for _, b := range []struct{ out, pkg string }{{"docker-kamal", "./plugin"}, {"kamal-sidecar", "./sidecar"}} {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags",
			"-X github.com/dockerkamal/docker-kamal/pkg/buildinfo.Version="+version,
			"-o", filepath.Join(plugins, b.out), b.pkg)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b.pkg, err, out)
		}
	}
	t.Cleanup(func() {
		// The sidecar image is built into the machine's engine from the
		// binary; remove it with the install.
		exec.Command("docker", "image", "rm", "-f", "kamal-sidecar:"+version).Run() //nolint:errcheck // best effort
	})
	return &pluginInstall{dockerConfig: dir}
}

// kamalRun is one finished `docker kamal` invocation.
type kamalRun struct {
	args   []string
	out    string
	err    error
	took   time.Duration
	logged *outputLog
}

// outputLog collects every byte the plugin printed, so a test can assert no
// secret ever appeared.
type outputLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *outputLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.WriteString(s)
}

func (l *outputLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// kamal runs `docker kamal args...` in dir and returns its combined output.
func (p *pluginInstall) kamal(ctx context.Context, dir string, env []string, log *outputLog, args ...string) kamalRun {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append([]string{"kamal"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+p.dockerConfig), env...)
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r := kamalRun{args: args, out: string(out), err: err, took: time.Since(start), logged: log}
	if log != nil {
		log.add(fmt.Sprintf("$ docker kamal %s\n%s\n", strings.Join(args, " "), out))
	}
	return r
}

func (r kamalRun) must(t testing.TB) kamalRun {
	t.Helper()
	if r.err != nil {
		t.Fatalf("docker kamal %s: %v\n%s", strings.Join(r.args, " "), r.err, r.out)
	}
	return r
}

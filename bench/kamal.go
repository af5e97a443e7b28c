package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Plugin is docker-kamal and kamal-sidecar built from this checkout into a
// throwaway DOCKER_CONFIG, driven through the real docker CLI as a user
// drives it.
type Plugin struct {
	// DockerConfig is the DOCKER_CONFIG directory holding cli-plugins/.
	DockerConfig string
	// Version is the build version (unique per run, so hosts never keep a
	// sidecar from another checkout).
	Version string
	// Env is added to every invocation (e.g. DOCKER_KAMAL_TRAEFIK_IMAGE).
	Env []string
}

// InstallPlugin builds both binaries from the repository at root into a
// temporary DOCKER_CONFIG under dir, with -s -w as `make build` does.
func InstallPlugin(ctx context.Context, root, dir string) (*Plugin, error) {
	p := &Plugin{DockerConfig: filepath.Join(dir, "docker-config"), Version: fmt.Sprintf("bench-%x", time.Now().UnixNano())}
	plugins := filepath.Join(p.DockerConfig, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return nil, fmt.Errorf("install plugin: %w", err)
	}
	for _, b := range []struct{ out, pkg string }{{"docker-kamal", "./plugin"}, {"kamal-sidecar", "./sidecar"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags",
			"-s -w -X github.com/dockerkamal/docker-kamal/pkg/buildinfo.Version="+p.Version,
			"-o", filepath.Join(plugins, b.out), b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %w\n%s", b.pkg, err, out)
		}
	}
	return p, nil
}

// SidecarImage is the sidecar image reference the plugin builds and ships.
func (p *Plugin) SidecarImage() string { return "kamal-sidecar:" + p.Version }

// Close removes the sidecar image the plugin built on this machine.
func (p *Plugin) Close(ctx context.Context) {
	exec.CommandContext(ctx, "docker", "image", "rm", "-f", p.SidecarImage()).Run() //nolint:errcheck // best effort
}

// Line is one line the command printed, with when it arrived.
type Line struct {
	At   time.Duration // since the command started
	Text string
}

// Invocation is one finished command.
type Invocation struct {
	Args  []string
	Start time.Time
	Took  time.Duration
	Lines []Line
	Err   error
}

// Output is every line, joined.
func (r *Invocation) Output() string {
	var b strings.Builder
	for _, l := range r.Lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// Tail is the last n lines, for errors.
func (r *Invocation) Tail(n int) string {
	lines := r.Lines
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// Kamal runs `docker kamal args...` in dir, bounded by timeout, recording
// each output line with its arrival time.
func (p *Plugin) Kamal(ctx context.Context, dir string, timeout time.Duration, args ...string) *Invocation {
	return p.run(ctx, dir, timeout, "docker", append([]string{"kamal"}, args...)...)
}

func (p *Plugin) run(ctx context.Context, dir string, timeout time.Duration, name string, args ...string) *Invocation {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+p.DockerConfig), p.Env...)
	cmd.WaitDelay = 10 * time.Second
	r := &Invocation{Args: args}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var mu sync.Mutex
	done := make(chan struct{})
	r.Start = time.Now()
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			mu.Lock()
			r.Lines = append(r.Lines, Line{At: time.Since(r.Start), Text: sc.Text()})
			mu.Unlock()
		}
		io.Copy(io.Discard, pr) //nolint:errcheck // drain after an over-long line
	}()
	err := cmd.Run()
	r.Took = time.Since(r.Start)
	pw.Close()
	<-done
	if err != nil {
		r.Err = fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, r.Tail(15))
	}
	return r
}

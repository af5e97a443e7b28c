package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// FormatLog renders an invocation as a command log: a header, then each
// line with its seconds since the command started. ReadLog parses it back.
func FormatLog(r *Invocation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ docker %s\n# started %s, took %v, error: %v\n", strings.Join(r.Args, " "), r.Start.Format(time.RFC3339Nano), r.Took, r.Err)
	for _, l := range r.Lines {
		fmt.Fprintf(&b, "%9.3f %s\n", l.At.Seconds(), l.Text)
	}
	return b.String()
}

// ReadLog parses a command log written by FormatLog (Err is not restored).
func ReadLog(text string) (*Invocation, error) {
	r := &Invocation{}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		switch {
		case i == 0 && strings.HasPrefix(line, "$ docker "):
			r.Args = strings.Fields(strings.TrimPrefix(line, "$ docker "))
		case i == 1 && strings.HasPrefix(line, "# started "):
			f := strings.Fields(strings.TrimPrefix(line, "# started "))
			if len(f) < 3 {
				return nil, fmt.Errorf("read log: bad header %q", line)
			}
			start, err := time.Parse(time.RFC3339Nano, strings.TrimSuffix(f[0], ","))
			if err != nil {
				return nil, fmt.Errorf("read log: %w", err)
			}
			took, err := time.ParseDuration(strings.TrimSuffix(f[2], ","))
			if err != nil {
				return nil, fmt.Errorf("read log: %w", err)
			}
			r.Start, r.Took = start, took
		default:
			if len(line) < 10 {
				return nil, fmt.Errorf("read log: line %d too short", i+1)
			}
			secs, err := strconv.ParseFloat(strings.TrimSpace(line[:9]), 64)
			if err != nil {
				return nil, fmt.Errorf("read log: line %d: %w", i+1, err)
			}
			r.Lines = append(r.Lines, Line{At: time.Duration(secs * float64(time.Second)).Round(time.Millisecond), Text: line[10:]})
		}
	}
	return r, nil
}

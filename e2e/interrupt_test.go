package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// The interrupt test app: web on two hosts, no proxy (no Traefik to boot),
// quick health so a deploy is seconds.
const interruptDeployYML = `service: kamal-intr
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
      - %[2]s
    proxy: false
env:
  clear:
    PORT: "3000"
readiness_delay: 1
deploy_timeout: 30
drain_timeout: 2
ssh:
  config: %[3]s
`

// timedLog keeps a running command's output with the time each line
// arrived, so a test can tell when something was first said.
type timedLog struct {
	mu      sync.Mutex
	partial string
	lines   []timedLine
}

type timedLine struct {
	at   time.Time
	text string
}

func (l *timedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.partial += string(p)
	for {
		i := strings.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, timedLine{at: now, text: l.partial[:i]})
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

// first is when a line containing s arrived.
func (l *timedLog) first(s string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range l.lines {
		if strings.Contains(ln.text, s) {
			return ln.at, true
		}
	}
	return time.Time{}, false
}

func (l *timedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, ln := range l.lines {
		b.WriteString(ln.text + "\n")
	}
	return b.String() + l.partial
}

// bgKamal is a `docker kamal` run in the background in its own process
// group, as a terminal runs it.
type bgKamal struct {
	cmd  *exec.Cmd
	out  *timedLog
	done chan struct{}
	err  error
	end  time.Time
}

func (a *surfaceApp) start(t *testing.T, args ...string) *bgKamal {
	t.Helper()
	cmd := exec.CommandContext(a.ctx, "docker", append([]string{"kamal"}, args...)...)
	cmd.Dir = a.dir
	cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+a.plugin.dockerConfig), a.env...)
	b := &bgKamal{cmd: cmd, out: &timedLog{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = b.out, b.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b.err = cmd.Wait()
		b.end = time.Now()
		a.log.add(fmt.Sprintf("$ docker kamal %s\n%s\n", strings.Join(args, " "), b.out))
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // our own process group
			<-b.done
		}
	})
	return b
}

// waitLine waits until the command printed a line containing s.
func (b *bgKamal) waitLine(t *testing.T, s string, d time.Duration) time.Time {
	t.Helper()
	var at time.Time
	waitUntil(t, d, func() bool {
		var ok bool
		at, ok = b.out.first(s)
		return ok
	}, func() string { return fmt.Sprintf("never printed %q:\n%s", s, b.out) })
	return at
}

// wait waits for the command to end and returns its exit code.
func (b *bgKamal) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(d):
		t.Fatalf("still running after %v:\n%s", d, b.out)
	}
	var ee *exec.ExitError
	if errors.As(b.err, &ee) {
		return ee.ExitCode()
	}
	if b.err != nil {
		t.Fatalf("run: %v", b.err)
	}
	return 0
}

// pluginPID is the docker-kamal process the docker CLI runs for b.
func (b *bgKamal) pluginPID(t *testing.T) int {
	t.Helper()
	var pid int
	waitUntil(t, 10*time.Second, func() bool {
		out, err := exec.Command("pgrep", "-P", strconv.Itoa(b.cmd.Process.Pid), "-x", "docker-kamal").Output()
		pid, _ = strconv.Atoi(strings.TrimSpace(string(out)))
		return err == nil && pid > 0
	}, func() string { return "no docker-kamal child of the docker CLI" })
	return pid
}

// pluginSocket is the address of the socket the Docker CLI opened for
// b's plugin, from the plugin's environment.
func (b *bgKamal) pluginSocket(t *testing.T) string {
	t.Helper()
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", b.pluginPID(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "DOCKER_CLI_PLUGIN_SOCKET="); ok {
			return v
		}
	}
	t.Fatal("the plugin has no DOCKER_CLI_PLUGIN_SOCKET: the Docker CLI opened no socket for it")
	return ""
}

// waitCLIHandledInterrupt waits until the Docker CLI closed the plugin's
// socket (no unix socket is bound to its address any more), which the CLI
// does on an interrupt just before it catches signals again.
func (b *bgKamal) waitCLIHandledInterrupt(t *testing.T, sock string, d time.Duration) {
	t.Helper()
	waitUntil(t, d, func() bool {
		table, err := os.ReadFile("/proc/net/unix")
		return err == nil && !slices.Contains(strings.Fields(string(table)), sock)
	}, func() string {
		return fmt.Sprintf("the Docker CLI never closed the plugin socket %s after the Ctrl-C", sock)
	})
}

// runningVersions is the version of each host's running web container.
func runningVersions(t testing.TB, ctx context.Context, f *harness.Fleet) map[string]string {
	t.Helper()
	live := map[string]string{}
	for _, h := range f.Hosts {
		out, err := h.Docker(ctx, "ps", "--filter", "label=kamal.service=kamal-intr", "--format", `{{.Label "kamal.version"}}`)
		if err != nil {
			t.Fatal(err)
		}
		live[h.Name] = strings.Join(strings.Fields(out), ",")
	}
	return live
}

func startInterruptApp(t *testing.T, ctx context.Context) *surfaceApp {
	t.Helper()
	for _, v := range []string{"v1", "v2"} {
		if _, err := harness.BuildSampleApp(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 2)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config", "deploy.yml"), fmt.Sprintf(interruptDeployYML, f.Hosts[0].Addr, f.Hosts[1].Addr, f.SSHConfig), 0o644)
	writeFile(t, filepath.Join(dir, ".kamal", "secrets"), "", 0o600)
	a := &surfaceApp{ctx: ctx, plugin: plugin, fleet: f, dir: dir, log: &outputLog{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin output:\n%s", a.log.String())
		}
	})
	return a
}

// TestHostFaultsMidDeploy: two host faults on one fleet, each followed by
// a deploy that converges it.
//   - A full disk on a host during ship: a clear error naming the host,
//     nothing half-loaded left there, and both hosts still on v1.
//   - A host cut off the network during the swap: given up on within 10 s
//     by SSH keepalives; the error names the host and the phase and says
//     what the other host serves.
func TestHostFaultsMidDeploy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	a := startInterruptApp(t, ctx)
	h1, h2 := a.fleet.Hosts[0], a.fleet.Hosts[1]
	a.kamal("setup", "--skip-push", "--version", "v1").must(t)

	t.Run("full disk during ship", func(t *testing.T) {
		if err := h2.FillDisk(ctx, "4k"); err != nil {
			t.Fatal(err)
		}
		full := true
		t.Cleanup(func() {
			if full {
				h2.FreeDisk(context.Background()) //nolint:errcheck // best effort: the hosts are this test's own
			}
		})
		r := a.kamal("deploy", "--skip-push", "--version", "v2")
		if r.err == nil {
			t.Fatalf("deploy onto a full disk succeeded:\n%s", r.out)
		}
		for _, want := range []string{h2.Addr.String(), "no space left on device", "FAILED"} {
			if !strings.Contains(r.out, want) {
				t.Errorf("deploy onto a full disk does not say %q:\n%s", want, r.out)
			}
		}
		if out, err := h2.Docker(ctx, "images", "-q", "kamal-e2e-app:v2"); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("v2 is on the full host after the failed load: %q, %v", out, err)
		}
		if left, err := h2.StagedFiles(ctx); err != nil || left != "" {
			t.Errorf("half-loaded files left in dockerd's staging dir: %q, %v", left, err)
		}
		for h, v := range runningVersions(t, ctx, a.fleet) {
			if v != "v1" {
				t.Errorf("after the failed ship %s runs %q, want v1", h, v)
			}
		}
		if err := h2.FreeDisk(ctx); err != nil {
			t.Fatal(err)
		}
		full = false
	})

	t.Run("host partitioned mid-swap", func(t *testing.T) {
		b := a.start(t, "deploy", "--skip-push", "--version", "v2")
		b.waitLine(t, "Swap to v2", 2*time.Minute)
		if err := h2.Disconnect(ctx); err != nil {
			t.Fatal(err)
		}
		cut := time.Now()
		healed := false
		t.Cleanup(func() {
			if !healed {
				h2.Reconnect(context.Background()) //nolint:errcheck // best effort: the hosts are this test's own
			}
		})
		code := b.wait(t, 2*time.Minute)
		lostAt := b.waitLine(t, "connection lost", time.Second)
		detect := lostAt.Sub(cut)
		t.Logf("partition of %s detected after %v; the deploy gave up after %v", h2.Name, detect.Round(100*time.Millisecond), b.end.Sub(cut).Round(100*time.Millisecond))
		if code == 0 {
			t.Fatalf("deploy with a partitioned host succeeded:\n%s", b.out)
		}
		if detect > 10*time.Second {
			t.Errorf("partition detected after %v, want within 10 s:\n%s", detect, b.out)
		}
		out := b.out.String()
		for _, want := range []string{"host " + h2.Addr.String() + " was lost during swap", h1.Addr.String()} {
			if !strings.Contains(out, want) {
				t.Errorf("deploy output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "unexpected packet") {
			t.Errorf("deploy output still shows the raw SSH error:\n%s", out)
		}
		if v := runningVersions(t, ctx, a.fleet)[h1.Name]; v != "v1" {
			t.Errorf("%s runs %q after the failed deploy, want v1 (rolled back or never switched)", h1.Name, v)
		}
		if err := h2.Reconnect(ctx); err != nil {
			t.Fatal(err)
		}
		healed = true
		if err := h2.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	})

	a.kamal("deploy", "--skip-push", "--version", "v2").must(t)
	for h, v := range runningVersions(t, ctx, a.fleet) {
		if v != "v2" {
			t.Errorf("after the faults and a deploy %s runs %q, want v2", h, v)
		}
	}
}

// TestKillPluginMidDeploy: a plugin killed by SIGKILL mid-deploy leaves
// every host serving and the lock held; the next deploy says who holds it,
// since when and for what; `lock release` says whose lock it broke, and a
// deploy then converges. A double Ctrl-C, while the cleanup waits on a
// hung host, exits at once with 130 and leaves every host serving.
func TestKillPluginMidDeploy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	a := startInterruptApp(t, ctx)
	a.kamal("setup", "--skip-push", "--version", "v1").must(t)

	b := a.start(t, "deploy", "--skip-push", "--version", "v2")
	b.waitLine(t, "Swap to v2", 2*time.Minute)
	if err := syscall.Kill(b.pluginPID(t), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.wait(t, time.Minute)
	// The sidecars finish or undo their swaps on their own.
	waitSingleVersions(t, ctx, a.fleet, "SIGKILL mid-swap", "v1", "v2")

	r := a.kamal("deploy", "--skip-push", "--version", "v2")
	if r.err == nil {
		t.Fatalf("deploy over a dead plugin's lock succeeded:\n%s", r.out)
	}
	for _, want := range []string{"deploy lock held by", "since", `for "deploy" of version v2`, "lock release"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("refused deploy does not say %q:\n%s", want, r.out)
		}
	}
	rel := a.kamal("lock", "release").must(t)
	if !strings.Contains(rel.out, "Released the deploy lock") || !strings.Contains(rel.out, `for "deploy"`) {
		t.Errorf("lock release printed:\n%s", rel.out)
	}
	if rel := a.kamal("lock", "release").must(t); !strings.Contains(rel.out, "no deploy lock") {
		t.Errorf("second lock release printed:\n%s", rel.out)
	}
	a.kamal("deploy", "--skip-push", "--version", "v2").must(t)
	for h, v := range runningVersions(t, ctx, a.fleet) {
		if v != "v2" {
			t.Errorf("after lock release and a deploy %s runs %q, want v2", h, v)
		}
	}

	// Double Ctrl-C to the process group during the swap.
	// A version of its own: v1 from the sample app with another APP_VERSION.
	v3 := fmt.Sprintf("intr-v3-%x", time.Now().UnixNano()&0xffffffff)
	buildVariant(t, ctx, v3, "")
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "kamal-e2e-app:"+v3).Run() }) //nolint:errcheck // best effort
	// host2 hangs (paused) during the swap, so the cleanup after the first
	// Ctrl-C waits on it until keepalives give up: the wait a user cuts
	// short with a second Ctrl-C.
	h2 := a.fleet.Hosts[1]
	b = a.start(t, "deploy", "--skip-push", "--version", v3)
	b.waitLine(t, "Swap to "+v3, 2*time.Minute)
	if err := h2.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	paused := true
	t.Cleanup(func() {
		if paused {
			h2.Unpause(context.Background()) //nolint:errcheck // best effort: the hosts are this test's own
		}
	})
	pgid := -b.cmd.Process.Pid
	sock := b.pluginSocket(t)
	if err := syscall.Kill(pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	b.waitLine(t, "interrupt again to exit at once", 10*time.Second)
	// A terminal's second Ctrl-C comes a human's reaction time later; by
	// then the Docker CLI has handled the first one (it closes the
	// plugin's socket, then catches signals again). Sent sooner, the
	// second one can land in the CLI's gap between the two and kill the
	// CLI itself, which says nothing about the plugin.
	b.waitCLIHandledInterrupt(t, sock, 10*time.Second)
	select {
	case <-b.done:
		t.Fatalf("the first Ctrl-C finished before a second could be sent (nothing to cut short):\n%s", b.out)
	default:
	}
	second := time.Now()
	if err := syscall.Kill(pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := b.wait(t, 10*time.Second)
	t.Logf("second Ctrl-C to exit: %v", b.end.Sub(second).Round(10*time.Millisecond))
	if code != 130 || b.end.Sub(second) > 3*time.Second {
		t.Errorf("second Ctrl-C: exit %d after %v, want 130 within 3 s:\n%s", code, b.end.Sub(second), b.out)
	}
	if err := h2.Unpause(ctx); err != nil {
		t.Fatal(err)
	}
	paused = false
	waitSingleVersions(t, ctx, a.fleet, "a double Ctrl-C", "v2", v3)
}

// waitSingleVersions waits until every host runs exactly one web
// container, of one of the versions.
func waitSingleVersions(t *testing.T, ctx context.Context, f *harness.Fleet, after string, versions ...string) {
	t.Helper()
	waitUntil(t, 60*time.Second, func() bool {
		for _, v := range runningVersions(t, ctx, f) {
			if !slices.Contains(versions, v) {
				return false
			}
		}
		return true
	}, func() string {
		return fmt.Sprintf("after %s some host serves no single version: %v", after, runningVersions(t, ctx, f))
	})
}

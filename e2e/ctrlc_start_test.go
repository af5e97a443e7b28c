package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startDeployYML deploys to an SSH server that accepts and never answers,
// so a deploy that missed the Ctrl-C waits there for tens of seconds.
const startDeployYML = `service: kamal-start
image: kamal-e2e-app
servers:
  web:
    hosts:
      - 127.0.0.1
    proxy: false
ssh:
  port: %d
`

// silentSSH listens on loopback, holds every connection open and never
// writes, until the test ends.
func silentSSH(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// TestCtrlCWhileStarting: a Ctrl-C in the first milliseconds of `docker
// kamal deploy` is never lost. Each run ends within seconds: with 130 and
// the CANCELLED summary once the plugin runs, and otherwise as the Docker
// CLI ends a command it was still starting (it dies of the signal itself,
// or its plugin discovery or the plugin's first milliseconds, before any
// Go program can catch a signal, are cut short). Before, a Ctrl-C during
// the plugin's start-up reached only the CLI, which closed the plugin's
// socket before the plugin dialled it, and the deploy went on.
func TestCtrlCWhileStarting(t *testing.T) {
	plugin := installPlugin(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config", "deploy.yml"), fmt.Sprintf(startDeployYML, silentSSH(t)), 0o644)
	writeFile(t, filepath.Join(dir, ".kamal", "secrets"), "", 0o600)
	ends := map[string]int{}
	const runs, step = 40, 2 * time.Millisecond
	for i := range runs {
		at := time.Duration(i) * step
		end, out := ctrlCAt(t, dir, plugin.dockerConfig, at)
		switch end {
		case "lost":
			t.Errorf("Ctrl-C %v after the start was lost: the deploy still ran 10 s later:\n%s", at, out)
		case "other":
			t.Errorf("Ctrl-C %v after the start: unexpected end:\n%s", at, out)
		}
		ends[end]++
	}
	t.Logf("Ctrl-C 0-%v after the start, every %v: %v", time.Duration(runs-1)*step, step, ends)
	if ends["cancelled"] == 0 {
		t.Errorf("no run reached the plugin's CANCELLED summary: %v", ends)
	}
}

// ctrlCAt runs a deploy in its own process group, sends the group SIGINT
// at after its start, and says how it ended.
func ctrlCAt(t *testing.T, dir, dockerConfig string, at time.Duration) (end, out string) {
	t.Helper()
	cmd := exec.Command("docker", "kamal", "deploy", "--skip-push", "--version", "v1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(at) // the moment of the Ctrl-C under test, not a wait
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // our own process group
		<-done
		return "lost", buf.String()
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	switch {
	case code == 130 && strings.Contains(buf.String(), "CANCELLED"):
		return "cancelled", buf.String()
	case code == -1:
		return "cli killed while starting", buf.String()
	case code == 125:
		return "plugin discovery cut short", buf.String()
	case code == 255:
		return "plugin killed before it could catch signals", buf.String()
	}
	return "other", fmt.Sprintf("exit %d:\n%s", code, buf.String())
}

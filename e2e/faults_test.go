package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// TestFaults exercises the fault controls on a host of its own, and the
// sample app's drain on SIGTERM: a request in flight when `docker stop`
// sends SIGTERM still completes with 200.
func TestFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	f := harness.StartHosts(t, 1)
	h := f.Hosts[0]
	app, err := harness.BuildSampleApp(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.LoadImage(ctx, app); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Docker(ctx, "run", "-d", "--name", "app", "--restart", "always", "-p", "8080:3000", app); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://%s:8080", h.Addr)
	waitHTTP(t, url+"/up", http.StatusOK, 30*time.Second)

	// Graceful drain: SIGTERM with a 2 s request in flight.
	type res struct {
		status int
		body   string
		err    error
	}
	done := make(chan res, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Get(url + "/sleep?ms=2000")
		if err != nil {
			done <- res{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- res{status: resp.StatusCode, body: string(b)}
	}()
	waitFor(t, 10*time.Second, "the /sleep request to be in flight", func() bool {
		out, err := h.Docker(ctx, "exec", "app", "sh", "-c", "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == \"01\"' | wc -l")
		return err == nil && strings.TrimSpace(out) != "0"
	})
	if _, err := h.Docker(ctx, "stop", "-t", "30", "app"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, "v1") {
		t.Errorf("in-flight request across SIGTERM: status %d, body %q, err %v; want 200 with the version", r.status, r.body, r.err)
	}
	if _, err := h.Docker(ctx, "start", "app"); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, url+"/up", http.StatusOK, 30*time.Second)

	// Kill a container (docker kill counts as a manual stop: no restart).
	if err := h.KillContainer(ctx, "app", "KILL"); err != nil {
		t.Fatal(err)
	}
	if out, err := h.Docker(ctx, "inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", "app"); err != nil || out != "false 137" {
		t.Fatalf("app after KillContainer: %q, %v; want stopped with 137", out, err)
	}
	if _, err := h.Docker(ctx, "start", "app"); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, url+"/up", http.StatusOK, 30*time.Second)

	// Kill a process by name inside the host (the app runs in a container
	// of the host, so its process is visible there): a crash, which the
	// restart policy answers.
	pid := func() string {
		out, _ := h.Exec(ctx, "pgrep", "-x", "sampleapp")
		return strings.TrimSpace(out)
	}
	before := pid()
	if before == "" {
		t.Fatal("no sampleapp process on the host")
	}
	if err := h.KillProcess(ctx, "sampleapp", "KILL"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "sampleapp to be restarted", func() bool { p := pid(); return p != "" && p != before })
	waitHTTP(t, url+"/up", http.StatusOK, 30*time.Second)

	// Restart dockerd: the restart=always container comes back.
	if err := h.RestartDockerd(ctx); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, url+"/up", http.StatusOK, 60*time.Second)

	// Reboot the host: same address, same host keys (strict known_hosts).
	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := h.RunSSH(ctx, "hostname"); err != nil || strings.TrimSpace(out) != h.Name {
		t.Fatalf("ssh after reboot: %q, %v", out, err)
	}
	waitHTTP(t, url+"/up", http.StatusOK, 60*time.Second)

	// Kill the host (power loss), then start it again.
	if err := h.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 3*time.Second)
	_, err = h.RunSSH(dctx, "true")
	dcancel()
	if err == nil {
		t.Fatal("ssh to a killed host succeeded")
	}
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, url+"/up", http.StatusOK, 60*time.Second)
}

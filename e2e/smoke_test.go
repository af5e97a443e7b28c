package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// TestSmoke: 3 hosts; SSH into each with only the generated files; the
// sample app on host1's dockerd takes load with zero errors; host2 is
// partitioned, unreachable, then healed.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	f := harness.SharedFleet(t, 3)
	t.Logf("fleet of 3 ready in %v", time.Since(start).Round(time.Millisecond))

	for _, h := range f.Hosts {
		out := sshRun(t, f, h.Name, "hostname; docker info --format '{{.Driver}}'")
		if got := strings.Fields(out); len(got) != 2 || got[0] != h.Name || got[1] != "overlay2" {
			t.Errorf("ssh %s: got %q, want hostname %s and storage driver overlay2", h.Name, out, h.Name)
		}
	}

	app, err := harness.BuildSampleApp(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	h1 := f.Hosts[0]
	if err := h1.LoadImage(ctx, app); err != nil {
		t.Fatal(err)
	}
	if _, err := h1.Docker(ctx, "run", "-d", "--name", "smoke-app", "-p", "8080:3000", app); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h1.Docker(context.Background(), "rm", "-f", "smoke-app") }) //nolint:errcheck // best effort on a shared host
	url := fmt.Sprintf("http://%s:8080", h1.Addr)
	waitHTTP(t, url+"/up", http.StatusOK, 30*time.Second)

	rep, err := loadgen.Run(ctx, loadgen.Config{
		URL: url + "/", Rate: 200, Duration: 3 * time.Second, Count: 600,
		Allow: []netip.Prefix{f.Subnet},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load on %s:\n%s", h1.Name, rep.Summary)
	s := rep.Summary
	if s.Total < 500 || s.Errors != 0 || s.Non2xx != 0 {
		t.Errorf("load: %d requests, %d errors, %d non-2xx; want >= 500 requests and none failed", s.Total, s.Errors, s.Non2xx)
	}
	if len(s.Versions) != 1 || s.Versions[0].Version != "v1" {
		t.Errorf("versions seen: %+v; want only v1", s.Versions)
	}

	h2 := f.Hosts[1]
	if err := h2.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	healed := false
	t.Cleanup(func() {
		if !healed {
			h2.Reconnect(context.Background()) //nolint:errcheck // best effort: keep the shared fleet whole
		}
	})
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(h2.Addr.String(), "22"), 2*time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still reachable on port 22 while partitioned", h2.Name)
	}
	if out, err := h1.Exec(ctx, "curl", "-sS", "--max-time", "2", "telnet://"+h2.Addr.String()+":22"); err == nil {
		t.Fatalf("%s reached partitioned %s: %q", h1.Name, h2.Name, out)
	}
	if err := h2.Reconnect(ctx); err != nil {
		t.Fatal(err)
	}
	healed = true
	if err := h2.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if out := sshRun(t, f, h2.Name, "hostname"); strings.TrimSpace(out) != h2.Name {
		t.Errorf("after heal, ssh %s: hostname %q", h2.Name, out)
	}
}

// sshRun connects to alias using only the files the harness wrote (ssh_config,
// identity, known_hosts, strictly checked), runs cmd and returns its output.
func sshRun(t *testing.T, f *harness.Fleet, alias, cmd string) string {
	t.Helper()
	cfg := parseSSHConfig(t, f.SSHConfig)[alias]
	if cfg["hostname"] == "" || cfg["user"] != "root" || cfg["identityfile"] == "" || cfg["userknownhostsfile"] == "" {
		t.Fatalf("ssh_config entry for %s incomplete: %v", alias, cfg)
	}
	pem, err := os.ReadFile(cfg["identityfile"])
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatalf("parse identity: %v", err)
	}
	check, err := knownhosts.New(cfg["userknownhostsfile"])
	if err != nil {
		t.Fatalf("known_hosts: %v", err)
	}
	addr := net.JoinHostPort(cfg["hostname"], cfg["port"])
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User: cfg["user"], Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: check, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh %s (%s): %v", alias, addr, err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("ssh %s %q: %v: %s", alias, cmd, err, out)
	}
	return string(out)
}

// parseSSHConfig reads Host blocks: alias -> lower-case keyword -> value.
func parseSSHConfig(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	out := map[string]map[string]string{}
	var cur []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		key := strings.ToLower(fields[0])
		if key == "host" {
			cur = fields[1:]
			for _, a := range cur {
				out[a] = map[string]string{}
			}
			continue
		}
		for _, a := range cur {
			out[a][key] = fields[1]
		}
	}
	return out
}

// waitHTTP polls url until it answers want, failing after timeout.
func waitHTTP(t *testing.T, url string, want int, timeout time.Duration) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d within %v (last: %s)", url, want, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

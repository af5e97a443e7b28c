package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

const hooksDeployYML = `service: kamal-hooks
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
proxy:
  app_port: 3000
  healthcheck:
    path: /up
env:
  clear:
    PORT: "3000"
builder:
  context: .
readiness_delay: 1
deploy_timeout: 60
drain_timeout: 2
ssh:
  config: %[2]s
`

// hooksSecret is in .kamal/secrets.staging for the hooks only (no config
// key refers to it); the hooks record whether they got it, never its value.
const hooksSecret = "hook-t0ken-5e6f7a"

// hookLogLine is what every hook appends to hooks.log: its name and the
// variables Kamal documents, secret-free.
const hookLogLine = `#!/bin/sh
printf '%%s cmd=%%s sub=%%s dest=%%s hosts=%%s version=%%s sv=%%s svc=%%s lock=%%s runtime=%%s performer=%%s recorded=%%s token=%%s pwd=%%s\n' \
  "$(basename "$0")" "$KAMAL_COMMAND" "$KAMAL_SUBCOMMAND" "$KAMAL_DESTINATION" "$KAMAL_HOSTS" "$KAMAL_VERSION" \
  "$KAMAL_SERVICE_VERSION" "$KAMAL_SERVICE" "$KAMAL_LOCK" "${KAMAL_RUNTIME:+set}" "${KAMAL_PERFORMER:+set}" \
  "${KAMAL_RECORDED_AT:+set}" "${HOOK_TOKEN:+set}" "$(pwd)" >> %[1]s
`

var kamalHooks = []string{"docker-setup", "pre-connect", "pre-build", "pre-deploy", "post-deploy",
	"pre-app-boot", "post-app-boot", "pre-proxy-reboot", "post-proxy-reboot"}

// TestHooksFire: over setup, deploy and proxy reboot, each of Kamal's
// nine hooks fires once per command that has its moment, in Kamal's order,
// with Kamal's variables; the secrets reach only pre-connect, pre-deploy
// and post-deploy.
func TestHooksFire(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 1)
	h := f.Hosts[0]
	app := t.TempDir()
	logPath := filepath.Join(app, "hooks.log")
	writeFile(t, filepath.Join(app, "config", "deploy.yml"), fmt.Sprintf(hooksDeployYML, h.Addr, f.SSHConfig), 0o644)
	writeFile(t, filepath.Join(app, "config", "deploy.staging.yml"), "env:\n  clear:\n    RAILS_ENV: staging\n", 0o644)
	writeFile(t, filepath.Join(app, ".kamal", "secrets.staging"), "HOOK_TOKEN="+hooksSecret+"\n", 0o600)
	writeFile(t, filepath.Join(app, "Dockerfile"), "FROM kamal-e2e-app:v1\nENV APP_VERSION=hooked\n", 0o644)
	for _, name := range kamalHooks {
		writeFile(t, filepath.Join(app, ".kamal", "hooks", name), fmt.Sprintf(hookLogLine, logPath), 0o755)
	}
	t.Cleanup(func() {
		exec.Command("docker", "image", "rm", "kamal-e2e-app:hk1", "kamal-e2e-app:hk2", "kamal-e2e-app:latest").Run() //nolint:errcheck // best effort
	})
	env := []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik, "DOCKER_KAMAL_SHIP_COMPRESS=0"}
	log := &outputLog{}
	kamal := func(args ...string) kamalRun { return plugin.kamal(ctx, app, env, log, args...) }
	t.Cleanup(func() {
		if strings.Contains(log.String(), hooksSecret) {
			t.Errorf("the hooks' secret appeared in the plugin's output")
		}
		if t.Failed() {
			t.Logf("plugin output:\n%s", log.String())
		}
	})

	start := time.Now()
	kamal("setup", "-d", "staging", "--version", "hk1").must(t)
	kamal("deploy", "-d", "staging", "--version", "hk2").must(t)
	kamal("proxy", "reboot", "-d", "staging", "-y").must(t)
	t.Logf("setup, deploy and proxy reboot took %v", time.Since(start).Round(time.Millisecond))

	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("no hook ran: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	wantOrder := map[string][]string{
		"setup":  {"pre-connect", "docker-setup", "pre-build", "pre-deploy", "pre-app-boot", "post-app-boot", "post-deploy"},
		"deploy": {"pre-connect", "pre-build", "pre-deploy", "pre-app-boot", "post-app-boot", "post-deploy"},
		"proxy":  {"pre-connect", "pre-proxy-reboot", "post-proxy-reboot"},
	}
	got := map[string][]string{}
	fired := map[string]bool{}
	realApp, err := filepath.EvalSymlinks(app)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		name, vars := parseHookLine(l)
		fired[name] = true
		cmd := vars["cmd"]
		got[cmd] = append(got[cmd], name)
		version := map[string]string{"setup": "hk1", "deploy": "hk2"}[cmd]
		want := map[string]string{
			"dest": "staging", "hosts": h.Addr.String(), "svc": "kamal-hooks", "performer": "set", "recorded": "set",
			"pwd": realApp, "token": "", "runtime": "",
		}
		if version != "" {
			want["version"], want["sv"] = version, "kamal-hooks@"+version
		}
		if cmd == "proxy" {
			want["sub"] = "reboot"
		}
		switch name {
		case "pre-connect", "pre-deploy", "post-deploy":
			want["token"] = "set"
		}
		if name == "post-deploy" {
			want["runtime"] = "set"
		}
		switch name {
		case "pre-deploy", "pre-app-boot", "post-app-boot", "post-deploy":
			want["lock"] = "true" // under the deploy lock
		}
		for k, w := range want {
			if vars[k] != w {
				t.Errorf("%s during %s: %s=%q, want %q", name, cmd, k, vars[k], w)
			}
		}
	}
	for cmd, want := range wantOrder {
		if strings.Join(got[cmd], " ") != strings.Join(want, " ") {
			t.Errorf("%s fired %v, want each once in Kamal's order %v", cmd, got[cmd], want)
		}
	}
	var missing []string
	for _, name := range kamalHooks {
		if !fired[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("hooks that never fired: %v", missing)
	}
	if n := len(lines); n != 16 {
		t.Errorf("%d hook runs, want 16 (7 setup, 6 deploy, 3 proxy reboot):\n%s", n, data)
	}
}

// parseHookLine splits "name k=v k=v ..." (values have no spaces).
func parseHookLine(l string) (string, map[string]string) {
	fields := strings.Fields(l)
	vars := map[string]string{}
	if len(fields) == 0 {
		return "", vars
	}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		vars[k] = v
	}
	return fields[0], vars
}

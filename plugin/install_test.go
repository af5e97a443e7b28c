package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallScript runs install.sh as a user would: install, install
// again (idempotent), run through docker, uninstall; and without Go on
// PATH it must fail with a clear message.
func TestInstallScript(t *testing.T) {
	cfg := t.TempDir()
	run := func(env []string, args ...string) (string, error) {
		cmd := exec.Command("../install.sh", args...)
		cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+cfg), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for i := 0; i < 2; i++ {
		if out, err := run(nil); err != nil {
			t.Fatalf("install #%d: %v\n%s", i+1, err, out)
		}
	}
	for _, f := range []string{"docker-kamal", "kamal-sidecar"} {
		if st, err := os.Stat(filepath.Join(cfg, "cli-plugins", f)); err != nil || st.Mode()&0o111 == 0 {
			t.Fatalf("%s not installed executable: %v", f, err)
		}
	}
	dockerOut, err := exec.Command("docker", "--config", cfg, "kamal", "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(dockerOut)) == "" {
		t.Fatalf("docker kamal version after install: %v %s", err, dockerOut)
	}
	if out, err := run(nil, "--uninstall"); err != nil {
		t.Fatalf("uninstall: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(cfg, "cli-plugins", "docker-kamal")); !os.IsNotExist(err) {
		t.Fatalf("plugin still there after uninstall: %v", err)
	}
	// A PATH with docker but no go.
	bin := t.TempDir()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(docker, filepath.Join(bin, "docker")); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"bash", "dirname", "git", "sed", "mkdir", "cp", "chmod", "mv", "rm"} {
		if p, err := exec.LookPath(tool); err == nil {
			os.Symlink(p, filepath.Join(bin, tool)) //nolint:errcheck // a missing helper shows up as a test failure below
		}
	}
	out, err := run([]string{"PATH=" + bin})
	if err == nil || !strings.Contains(out, "go is not installed") {
		t.Fatalf("install without go: err=%v\n%s", err, out)
	}
}

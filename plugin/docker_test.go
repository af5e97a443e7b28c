package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestThroughDockerCLI installs the plugin into a throwaway DOCKER_CONFIG and
// drives it through the real docker CLI, as a user would.
func TestThroughDockerCLI(t *testing.T) {
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Fatalf("the docker CLI is required for this test: %v", err)
	}
	cfg := t.TempDir()
	plugins := filepath.Join(cfg, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "docker-kamal"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build plugin: %v\n%s", err, out)
	}
	dockerRun := func(args ...string) (string, error) {
		cmd := exec.Command(docker, args...)
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+cfg)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := dockerRun("kamal", "--help")
	if err != nil || !strings.Contains(out, "deploy") || !strings.Contains(out, "rollback") {
		t.Fatalf("docker kamal --help: %v\n%s", err, out)
	}
	out, err = dockerRun("help", "kamal")
	if err != nil || !strings.Contains(out, "accessory") {
		t.Fatalf("docker help kamal: %v\n%s", err, out)
	}
	out, err = dockerRun("kamal", "version")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("docker kamal version: %v\n%s", err, out)
	}
	out, _ = dockerRun("--help")
	if !strings.Contains(out, "kamal*") && !strings.Contains(out, "kamal ") {
		t.Fatalf("docker --help does not list the plugin:\n%s", out)
	}
	// A global flag before `kamal` reaches us and does not break parsing.
	out, err = dockerRun("--context", "default", "kamal", "version")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("docker --context default kamal version: %v\n%s", err, out)
	}
}

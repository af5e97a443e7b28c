package command

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"docker-kamal"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestMetadata(t *testing.T) {
	out, _, code := run(t, "docker-cli-plugin-metadata")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"SchemaVersion", "Vendor", "Version", "ShortDescription", "URL"} {
		if m[k] == nil || m[k] == "" {
			t.Fatalf("metadata lacks %s: %s", k, out)
		}
	}
	if m["SchemaVersion"] != "0.1.0" {
		t.Fatalf("schema %v", m["SchemaVersion"])
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"kamal", "--help"}, {"--help"}, {"kamal", "help"}} {
		out, _, code := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, n := range tree {
			if !strings.Contains(out, "   "+n.name+" ") {
				t.Fatalf("%v: help does not list %q:\n%s", args, n.name, out)
			}
		}
	}
}

func TestNotImplementedFailsClearly(t *testing.T) {
	saved := handlers
	handlers = map[string]Handler{}
	defer func() { handlers = saved }()
	_, errOut, code := run(t, "kamal", "proxy", "reboot")
	if code == 0 || !strings.Contains(errOut, "not implemented yet") || !strings.Contains(errOut, "issue 6") {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
}

func TestGlobalsAnywhereAndDockerFlags(t *testing.T) {
	saved := handlers
	defer func() { handlers = saved }()
	var got *Globals
	handlers = map[string]Handler{"deploy": func(_ context.Context, g *Globals, _ *cli.Context) error { got = g; return nil }}
	_, errOut, code := run(t, "--context", "remote", "-H", "unix:///x.sock", "kamal", "deploy", "-d", "staging", "--hosts=h1,h2", "-v", "-c", "other.yml", "-H")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got.Destination != "staging" || !reflect.DeepEqual(got.Hosts, []string{"h1", "h2"}) || !got.Verbose || got.ConfigFile != "other.yml" || !got.SkipHooks {
		t.Fatalf("globals %+v", got)
	}
	if !reflect.DeepEqual(got.DockerFlags, []string{"--context", "remote", "-H", "unix:///x.sock"}) {
		t.Fatalf("docker flags %q", got.DockerFlags)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "kamal", "version")
	if code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("exit %d out %q", code, out)
	}
}

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
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "docker-kamal"), "../../plugin")
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

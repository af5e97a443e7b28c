package doctorcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/configcmd"
	"github.com/dockerkamal/docker-kamal/pkg/doctor"
)

func run(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Chdir(dir)
	var out, errb bytes.Buffer
	// init (with --rails) is configcmd's; the two run together here.
	p := cmdline.Program{Commands: append(configcmd.Commands(), Commands()...)}
	code = p.Run(context.Background(), append([]string{"docker-kamal"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// copyApp copies a doctor fixture app into a temp git work tree.
func copyApp(t *testing.T, name string) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "doctor", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", src+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v: %s", err, out)
	}
	cmd := exec.Command("sh", "-c", "git init -q && git add -A")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git: %v: %s", err, out)
	}
	return dir
}

func TestDoctorExitCodes(t *testing.T) {
	tests := []struct {
		app      string
		args     []string
		wantCode int
	}{
		{"app", []string{"doctor"}, 0},
		{"app", []string{"doctor", "--json"}, 0},
		{"app-bad", []string{"doctor"}, 1},
		{"app-bad", []string{"doctor", "--json"}, 1},
		{"app-bad", []string{"-q", "doctor"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.app+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := run(t, copyApp(t, tt.app), tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			if strings.Contains(out+errOut, "LEAK") {
				t.Errorf("a secret value was printed:\n%s\n%s", out, errOut)
			}
			if !strings.Contains(strings.Join(tt.args, " "), "--json") {
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					if l != "" && !strings.HasPrefix(l, "error ") && !strings.HasPrefix(l, "warn ") && !strings.HasPrefix(l, "info ") {
						t.Errorf("not a finding line: %q", l)
					}
				}
				return
			}
			var r doctor.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("--json output: %v\n%s", err, out)
			}
			if (r.Summary.Errors == 0) != (tt.wantCode == 0) {
				t.Errorf("summary %+v disagrees with exit code %d", r.Summary, code)
			}
		})
	}
}

// TestInitRailsThenDoctor drives both commands as a user would.
func TestInitRailsThenDoctor(t *testing.T) {
	src, _ := filepath.Abs(filepath.Join("..", "railsinit", "testdata", "skeleton"))
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", src+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v: %s", err, out)
	}
	out, errOut, code := run(t, dir, "init", "--rails")
	if code != 0 {
		t.Fatalf("init --rails: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, f := range []string{"Dockerfile", "config/deploy.yml", "config/deploy.staging.yml", ".kamal/secrets", ".kamal/hooks/pre-deploy.sample"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("init --rails did not write %s: %v", f, err)
		}
	}
	cmd := exec.Command("sh", "-c", "git init -q && git add -A")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git: %v: %s", err, b)
	}
	for _, args := range [][]string{{"doctor"}, {"doctor", "-d", "staging"}} {
		out, errOut, code := run(t, dir, args...)
		if code != 0 || strings.Contains(out, "error ") {
			t.Errorf("%v after init --rails: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
}

package railsinit

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/doctor"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// skeleton copies the skeleton Rails app into a temp git work tree.
func skeleton(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "book_store")
	err := filepath.WalkDir("testdata/skeleton", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/skeleton", p)
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	// master.key exists locally (ignored by git), as in a real app.
	if err := os.WriteFile(filepath.Join(dir, "config/master.key"), []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func gitAdd(t testing.TB, dir string) {
	t.Helper()
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
}

func noEnv(string) (string, bool) { return "", false }

// TestInitPassesDoctor: init --rails on a skeleton Rails app writes files
// (compared as golden) that doctor finds no error in, for the base config
// and the staging destination.
func TestInitPassesDoctor(t *testing.T) {
	dir := skeleton(t)
	var out bytes.Buffer
	if err := Write(dir, &out); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/init.golden", out.String())
	for _, f := range Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatalf("%s not written: %v", f.Path, err)
		}
		golden(t, filepath.Join("testdata", "generated", f.Path+".golden"), string(data))
		info, err := os.Stat(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != f.Mode {
			t.Errorf("%s mode %v, want %v", f.Path, info.Mode().Perm(), f.Mode)
		}
	}
	gitAdd(t, dir)
	for _, dest := range []string{"", "staging"} {
		p, err := doctor.Load(context.Background(), doctor.Options{Root: dir, Destination: dest, Env: noEnv})
		if err != nil {
			t.Fatal(err)
		}
		r := doctor.NewReport(doctor.Run(context.Background(), p, doctor.Checks()), p.Secrets())
		var text bytes.Buffer
		if err := r.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if !r.OK() {
			t.Errorf("doctor -d %q finds errors in init --rails output:\n%s", dest, text.String())
		}
		if r.Summary.Warnings != 0 {
			t.Errorf("doctor -d %q warns about init --rails output:\n%s", dest, text.String())
		}
		if strings.Contains(text.String(), "0123456789abcdef") {
			t.Errorf("doctor printed the master key")
		}
	}
}

// TestInitKeepsExisting: an existing file is not touched; the difference is
// printed as advice, and notes cover routes and force_ssl.
func TestInitKeepsExisting(t *testing.T) {
	dir := skeleton(t)
	mine := "FROM ruby:3.4.1\nCOPY . .\nCMD [\"./bin/rails\", \"server\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config/routes.rb"), []byte("Rails.application.routes.draw do\nend\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prod := filepath.Join(dir, "config/environments/production.rb")
	if err := os.WriteFile(prod, []byte("Rails.application.configure do\n  config.force_ssl = true\nend\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Write(dir, &out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != mine {
		t.Errorf("existing Dockerfile was changed")
	}
	golden(t, "testdata/init-existing.golden", out.String())
	// A second run changes nothing and says so.
	out.Reset()
	if err := Write(dir, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Kept existing config/deploy.yml (already as suggested)") {
		t.Errorf("second run:\n%s", out.String())
	}
}

func TestServiceName(t *testing.T) {
	for in, want := range map[string]string{"book_store": "book_store", "My App": "my_app", "--x": "x", "": "app", "Ünï": "n_"} {
		if got := serviceName(in); got != want {
			t.Errorf("serviceName(%q) = %q, want %q", in, got, want)
		}
	}
}

package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
)

func TestArgs(t *testing.T) {
	o := Options{
		DockerFlags: []string{"--context", "remote"},
		Context:     "app",
		Dockerfile:  "Dockerfile.prod",
		Target:      "final",
		BuildArgs:   map[string]string{"RUBY": "3.3", "A": "1"},
		Tags:        []string{"me/app:abc", "me/app:latest"},
		Labels:      map[string]string{"service": "app"},
	}
	want := []string{"--context", "remote", "build", "-t", "me/app:abc", "-t", "me/app:latest", "-f", "Dockerfile.prod", "--target", "final", "--label", "service=app", "--build-arg", "A=1", "--build-arg", "RUBY=3.3", "app"}
	if got := o.Args(); !reflect.DeepEqual(got, want) {
		t.Fatalf("args\n got %q\nwant %q", got, want)
	}
}

func TestVersionCleanAndDirty(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	run("init", "-q")
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("add", "a")
	run("commit", "-qm", "one")
	clean, err := Version(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(clean) {
		t.Fatalf("clean version %q is not a SHA", clean)
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirty, err := Version(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^` + clean + `_uncommitted_[0-9a-f]{16}$`).MatchString(dirty) {
		t.Fatalf("dirty version %q", dirty)
	}
	again, _ := Version(context.Background(), dir)
	if again != dirty {
		t.Fatalf("dirty version not stable: %q vs %q", dirty, again)
	}
}

package build

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestArgs: every builder setting becomes its buildx flag; secret values
// never appear on the command line, only their ids and env names.
func TestArgs(t *testing.T) {
	o := Options{
		DockerFlags: []string{"--context", "remote"},
		Context:     "app",
		Dockerfile:  "Dockerfile.prod",
		Target:      "final",
		BuildArgs:   map[string]string{"RUBY": "3.3", "A": "1"},
		Secrets:     map[string]string{"TOKEN": "s3cr3t-value", "DB": "db-pass-42"},
		SSH:         "default=/tmp/agent.sock",
		Platform:    Platform("x86_64"),
		NoCache:     true,
		CacheFrom:   []string{"type=registry,ref=r/app-build-cache"},
		CacheTo:     []string{"type=inline"},
		Provenance:  "false",
		SBOM:        "false",
		Tags:        []string{"me/app:abc", "me/app:latest"},
		Labels:      map[string]string{"service": "app"},
	}
	want := []string{"--context", "remote", "buildx", "build", "--progress", "plain", "--load",
		"-t", "me/app:abc", "-t", "me/app:latest", "--platform", "linux/amd64", "-f", "Dockerfile.prod", "--target", "final",
		"--label", "service=app", "--build-arg", "A=1", "--build-arg", "RUBY=3.3",
		"--secret", "id=DB,env=KAMAL_BUILD_SECRET_DB", "--secret", "id=TOKEN,env=KAMAL_BUILD_SECRET_TOKEN",
		"--ssh", "default=/tmp/agent.sock", "--cache-from", "type=registry,ref=r/app-build-cache", "--cache-to", "type=inline",
		"--provenance=false", "--sbom=false", "--no-cache", "app"}
	if got := o.Args(); !reflect.DeepEqual(got, want) {
		t.Fatalf("args\n got %q\nwant %q", got, want)
	}
	env := strings.Join(o.env(), "\n")
	for _, kv := range []string{"KAMAL_BUILD_SECRET_TOKEN=s3cr3t-value", "KAMAL_BUILD_SECRET_DB=db-pass-42"} {
		if !strings.Contains(env, kv) {
			t.Errorf("the build environment lacks %s", kv)
		}
	}
	if min := (Options{Tags: []string{"a:1"}}).Args(); !reflect.DeepEqual(min, []string{"buildx", "build", "--progress", "plain", "--load", "-t", "a:1", "."}) {
		t.Errorf("minimal args %q", min)
	}
}

func TestNormalizeArch(t *testing.T) {
	for in, want := range map[string]string{"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", " ARM64\n": "arm64", "riscv64": "riscv64"} {
		if got := NormalizeArch(in); got != want {
			t.Errorf("NormalizeArch(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Platform("aarch64"); got != "linux/arm64" {
		t.Errorf("Platform(aarch64) = %q", got)
	}
}

func TestCheckArch(t *testing.T) {
	if err := CheckArch("h1", "x86_64", "app:1", "amd64"); err != nil {
		t.Fatalf("same arch refused: %v", err)
	}
	err := CheckArch("h1", "x86_64", "app:1", "arm64")
	var mm *ArchMismatchError
	if !errors.As(err, &mm) || !errors.Is(err, ErrArchMismatch) {
		t.Fatalf("mismatch not an ArchMismatchError: %v", err)
	}
	if *mm != (ArchMismatchError{Host: "h1", HostArch: "amd64", Image: "app:1", ImageArch: "arm64"}) {
		t.Errorf("mismatch %+v", *mm)
	}
}

// TestCloneHEAD: the clone holds what is committed, not the work tree's
// changes, which it lists; a second build refreshes the same clone to the
// new HEAD and drops files left in it; an app in a subdirectory of its
// repository is built from that subdirectory of the clone.
func TestCloneHEAD(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	repo := t.TempDir()
	run := gitRunner(t, repo)
	run("init", "-q")
	writeTestFile(t, filepath.Join(repo, "app", "Dockerfile"), "FROM scratch\n")
	writeTestFile(t, filepath.Join(repo, "app", "file"), "committed\n")
	run("add", ".")
	run("commit", "-qm", "one")
	writeTestFile(t, filepath.Join(repo, "app", "file"), "changed\n")
	writeTestFile(t, filepath.Join(repo, "app", "new"), "untracked\n")

	c, err := CloneHEAD(context.Background(), filepath.Join(repo, "app"))
	if err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(c.Dir, "file")); got != "committed\n" {
		t.Errorf("clone has %q, want the committed content", got)
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "new")); !os.IsNotExist(err) {
		t.Errorf("the untracked file is in the clone: %v", err)
	}
	if want := []string{"M app/file", "?? app/new"}; !reflect.DeepEqual(c.Uncommitted, want) {
		t.Errorf("uncommitted %q, want %q", c.Uncommitted, want)
	}
	if !strings.HasPrefix(c.Dir, filepath.Join(os.Getenv("TMPDIR"), "kamal-clones")) || filepath.Base(c.Dir) != "app" {
		t.Errorf("clone at %s", c.Dir)
	}

	writeTestFile(t, filepath.Join(c.Dir, "stray"), "left by a build\n")
	run("commit", "-qam", "two")
	run("clean", "-fdq")
	c2, err := CloneHEAD(context.Background(), filepath.Join(repo, "app"))
	if err != nil {
		t.Fatal(err)
	}
	if c2.Dir != c.Dir || len(c2.Uncommitted) != 0 {
		t.Errorf("second clone %s (uncommitted %q), want %s and clean", c2.Dir, c2.Uncommitted, c.Dir)
	}
	if got := readTestFile(t, filepath.Join(c2.Dir, "file")); got != "changed\n" {
		t.Errorf("refreshed clone has %q, want the new commit's content", got)
	}
	if _, err := os.Stat(filepath.Join(c2.Dir, "stray")); !os.IsNotExist(err) {
		t.Errorf("a file left in the clone survived the refresh: %v", err)
	}
	if InGit(context.Background(), t.TempDir()) {
		t.Errorf("a plain directory reads as a git work tree")
	}
}

func gitRunner(t *testing.T, dir string) func(args ...string) {
	return func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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

// TestNoBuildx: without the buildx plugin the build fails with
// ErrNoBuildx, before running anything.
func TestNoBuildx(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho \"docker: 'buildx' is not a docker command.\" >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	_, err := Build(context.Background(), Options{Tags: []string{"a:1"}})
	if !errors.Is(err, ErrNoBuildx) {
		t.Fatalf("want ErrNoBuildx, got %v", err)
	}
}

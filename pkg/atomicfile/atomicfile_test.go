package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name   string
		before string // existing content, "" for none
		data   string
		perm   fs.FileMode
	}{
		{"new file", "", "one\n", 0o600},
		{"replace", "old content that is longer\n", "new\n", 0o644},
		{"empty", "x", "", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if tt.before != "" {
				if err := os.WriteFile(path, []byte(tt.before), 0o666); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, []byte(tt.data), tt.perm); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tt.data {
				t.Fatalf("content = %q, %v; want %q", got, err, tt.data)
			}
			info, err := os.Stat(path)
			if err != nil || info.Mode().Perm() != tt.perm {
				t.Errorf("mode = %v, %v; want %v", info.Mode().Perm(), err, tt.perm)
			}
			assertOnly(t, dir, "state.json")
		})
	}
}

func TestWriteFileFailureLeavesOldContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A directory in the target's place makes the rename fail.
	target := filepath.Join(dir, "sub")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(target, []byte("new"), 0o600)
	if err == nil || errors.Is(err, ErrNotDurable) {
		t.Fatalf("rename over a directory: err = %v, want a plain failure", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("untouched file changed: %q", got)
	}
	assertOnly(t, dir, "state.json", "sub")
}

func TestWriteFileMissingDir(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "f"), []byte("x"), 0o600)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lock.json")
	if err := WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second time the file is already gone
		if err := Remove(path); err != nil {
			t.Fatalf("remove #%d: %v", i+1, err)
		}
	}
	assertOnly(t, dir)
}

func TestSyncDirFailureIsNotDurable(t *testing.T) {
	tests := []struct {
		err         error
		unsupported bool // the filesystem cannot sync dirs: not an error
	}{
		{syscall.EIO, false},
		{syscall.EINVAL, true},
		{syscall.ENOTSUP, true},
	}
	for _, tt := range tests {
		if got := unsupported(tt.err); got != tt.unsupported {
			t.Errorf("unsupported(%v) = %v, want %v", tt.err, got, tt.unsupported)
		}
	}
	// A directory that cannot be opened any more: the change is made but
	// not confirmed.
	err := syncDir(filepath.Join(t.TempDir(), "gone"))
	if !errors.Is(err, ErrNotDurable) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("sync of a missing dir: err = %v, want ErrNotDurable and fs.ErrNotExist", err)
	}
}

// assertOnly fails unless dir holds exactly names (no temp files left).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("dir holds %v, want %v", got, names)
	}
}

// WriteFileStaged writes through stage, which it creates: path's directory
// only ever gains path (Traefik's watcher lists it), and stage is left
// empty.
func TestWriteFileStagedLeavesOnlyTheTarget(t *testing.T) {
	root := t.TempDir()
	dir, stage := filepath.Join(root, "dynamic"), filepath.Join(root, ".dynamic.staging")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app-web.yml")
	for _, content := range []string{"v1", "v2"} {
		if err := WriteFileStaged(path, stage, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != content {
			t.Fatalf("read %s = %q, %v; want %q", path, got, err, content)
		}
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "app-web.yml" {
		t.Errorf("%s holds %v, want only app-web.yml", dir, names)
	}
	if names := dirNames(t, stage); len(names) != 0 {
		t.Errorf("stage %s holds %v, want nothing", stage, names)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

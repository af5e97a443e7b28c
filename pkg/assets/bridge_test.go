package assets

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// entry is one archive member: a file with body, or a symlink when link is set.
type entry struct{ name, body, link string }

// fakeSource serves per-image archives in the engine's layout (entries
// under the directory's base name).
type fakeSource map[string][]entry

func (f fakeSource) Archive(_ context.Context, image, dir string) (io.ReadCloser, error) {
	if _, ok := f[image]; !ok {
		return nil, ErrNoAssets
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	base := filepath.Base(dir)
	if err := tw.WriteHeader(&tar.Header{Name: base + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		return nil, err
	}
	for _, e := range f[image] {
		h := &tar.Header{Name: base + "/" + e.name, Mode: 0o600, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.link != "" {
			h = &tar.Header{Name: base + "/" + e.name, Typeflag: tar.TypeSymlink, Linkname: e.link}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return io.NopCloser(&b), nil
}

var web = Role{Service: "app", Role: "web"}

func newBridge(t *testing.T, src fakeSource) *Bridge {
	t.Helper()
	return &Bridge{Root: t.TempDir(), Source: src}
}

// tree lists dir's files as name=body.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, rel+"="+string(body))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

var images = fakeSource{
	"app:v1": {{name: "app-aaa.css", body: "v1 css"}, {name: "manifest.json", body: "v1"}},
	"app:v2": {{name: "app-bbb.css", body: "v2 css"}, {name: "manifest.json", body: "v2"}, {name: "js/app-ccc.js", body: "v2 js"}},
}

func TestPrepareBridgesBothWays(t *testing.T) {
	ctx := context.Background()
	b := newBridge(t, images)
	v1, err := b.PrepareRole(ctx, web, "app:v1", "/rails/public/assets", "v1", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "v1 alone", tree(t, v1), []string{"app-aaa.css=v1 css", "manifest.json=v1"})

	v2, err := b.PrepareRole(ctx, web, "app:v2", "/rails/public/assets", "v2", "v1")
	if err != nil {
		t.Fatal(err)
	}
	// Each version keeps its own copy of a name both hold.
	equal(t, "v2 volume", tree(t, v2), []string{"app-aaa.css=v1 css", "app-bbb.css=v2 css", "js/app-ccc.js=v2 js", "manifest.json=v2"})
	equal(t, "v1 volume", tree(t, v1), []string{"app-aaa.css=v1 css", "app-bbb.css=v2 css", "js/app-ccc.js=v2 js", "manifest.json=v1"})
	equal(t, "v2 extracted", tree(t, b.ExtractedDir(web, "v2")), []string{"app-bbb.css=v2 css", "js/app-ccc.js=v2 js", "manifest.json=v2"})
	info, err := os.Stat(filepath.Join(v2, "app-bbb.css"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o044 != 0o044 {
		t.Errorf("mode %v: the app's non-root user could not read it", info.Mode())
	}
}

func TestPruneThenRollbackRecreates(t *testing.T) {
	ctx := context.Background()
	b := newBridge(t, images)
	admin := Role{Service: "app", Role: "web-admin"}
	for _, r := range []Role{web, admin} {
		if _, err := b.PrepareRole(ctx, r, "app:v1", "/assets", "v1", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := b.PrepareRole(ctx, r, "app:v2", "/assets", "v2", "v1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.PruneRole(web, "v2"); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{b.ExtractedDir(web, "v1"), b.VolumeDir(web, "v1")} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the prune (err %v)", dir, err)
		}
	}
	if _, err := os.Stat(b.VolumeDir(admin, "v1")); err != nil {
		t.Errorf("pruning web touched web-admin: %v", err)
	}
	// Rolling back to v1: its directories come back with v2's assets too.
	v1, err := b.PrepareRole(ctx, web, "app:v1", "/assets", "v1", "v2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "v1 after rollback", tree(t, v1), []string{"app-aaa.css=v1 css", "app-bbb.css=v2 css", "js/app-ccc.js=v2 js", "manifest.json=v1"})
}

func TestPrepareRefuses(t *testing.T) {
	src := fakeSource{
		"escape": {{name: "out", link: "/etc"}, {name: "out/passwd", body: "x"}},
	}
	tests := []struct {
		image string
		want  error
	}{
		{"missing", ErrNoAssets},
		{"escape", ErrUnsafePath},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			b := newBridge(t, src)
			_, err := b.PrepareRole(context.Background(), web, tt.image, "/assets", "v1", "")
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if _, err := os.Stat(b.ExtractedDir(web, "v1")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed extraction left %s", b.ExtractedDir(web, "v1"))
			}
		})
	}
}

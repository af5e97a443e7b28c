package assets

import (
	"context"
	"io"
	"testing"
)

// countingSource is fakeSource with image IDs, counting extractions.
type countingSource struct {
	fakeSource
	ids      map[string]string
	archives int
}

func (c *countingSource) Archive(ctx context.Context, image, dir string) (io.ReadCloser, error) {
	c.archives++
	return c.fakeSource.Archive(ctx, image, dir)
}

func (c *countingSource) ImageID(_ context.Context, image string) (string, error) {
	return c.ids[image], nil
}

func TestAVersionIsExtractedOncePerImage(t *testing.T) {
	ctx := context.Background()
	src := &countingSource{fakeSource: images, ids: map[string]string{"app:v1": "sha256:1", "app:v2": "sha256:2"}}
	b := &Bridge{Root: t.TempDir(), Source: src}
	const path = "/rails/public/assets"
	for range 2 {
		if _, err := b.PrepareRole(ctx, web, "app:v1", path, "v1", ""); err != nil {
			t.Fatal(err)
		}
	}
	if src.archives != 1 {
		t.Fatalf("v1 prepared twice from one image: %d extractions, want 1", src.archives)
	}
	v2, err := b.PrepareRole(ctx, web, "app:v2", path, "v2", "v1")
	if err != nil {
		t.Fatal(err)
	}
	// The skipped extraction still bridges: v2 sees v1's files.
	equal(t, "v2 bridged with v1", tree(t, v2), []string{"app-aaa.css=v1 css", "app-bbb.css=v2 css", "js/app-ccc.js=v2 js", "manifest.json=v2"})

	// Pruning down to v1 keeps v1's record; v2 is extracted again later.
	if err := b.PruneRole(web, "v1"); err != nil {
		t.Fatal(err)
	}
	n := src.archives
	if _, err := b.PrepareRole(ctx, web, "app:v1", path, "v1", ""); err != nil {
		t.Fatal(err)
	}
	if src.archives != n {
		t.Errorf("v1 extracted again after a prune that kept it")
	}
	if _, err := b.PrepareRole(ctx, web, "app:v2", path, "v2", "v1"); err != nil {
		t.Fatal(err)
	}
	if src.archives != n+1 {
		t.Errorf("v2, pruned, was not extracted again")
	}

	// The same version tag rebuilt (another image ID), or another asset
	// path, is extracted again.
	src.ids["app:v1"] = "sha256:1b"
	if _, err := b.PrepareRole(ctx, web, "app:v1", path, "v1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PrepareRole(ctx, web, "app:v1", "/other", "v1", ""); err != nil {
		t.Fatal(err)
	}
	if src.archives != n+3 {
		t.Errorf("extractions %d, want %d: a new image ID and a new asset path each extract", src.archives, n+3)
	}
}

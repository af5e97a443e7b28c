package assets_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/assets"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker/dockertest"
)

// rootfs is an image whose asset path is a symlink to the real directory,
// as in images that keep public/assets elsewhere.
func rootfs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	hdrs := []struct {
		h    tar.Header
		body string
	}{
		{tar.Header{Name: "srv/", Typeflag: tar.TypeDir, Mode: 0o755}, ""},
		{tar.Header{Name: "srv/assets/", Typeflag: tar.TypeDir, Mode: 0o755}, ""},
		{tar.Header{Name: "srv/assets/app-abc.css", Typeflag: tar.TypeReg, Mode: 0o644}, "body{}"},
		{tar.Header{Name: "public/", Typeflag: tar.TypeDir, Mode: 0o755}, ""},
		{tar.Header{Name: "public/assets", Typeflag: tar.TypeSymlink, Linkname: "/srv/assets"}, ""},
	}
	for _, e := range hdrs {
		h := e.h
		h.Size = int64(len(e.body))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}

func TestDockerSourceOnARealEngine(t *testing.T) {
	c := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ref := "kamal-test-assets:" + dockertest.Unique(t)
	if _, err := c.ImageImport(ctx, rootfs(t), ref, []string{"LABEL " + dockertest.Label + "=1", `CMD ["/none"]`}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "rmi", "-f", ref).CombinedOutput(); err != nil {
			t.Errorf("remove %s: %v: %s", ref, err, out)
		}
	})
	dockertest.RemoveContainers(t, c, map[string]string{"kamal.assets": "1"})

	b := &assets.Bridge{Root: t.TempDir(), Source: assets.DockerSource{Docker: c}}
	d := &contract.Deploy{Service: "app", Role: "web", Version: "v1", Image: ref, Assets: &contract.Assets{Path: "/public/assets"}}
	dir, err := b.Prepare(ctx, d, "")
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(dir, "app-abc.css"))
	if err != nil || string(body) != "body{}" {
		t.Fatalf("bridged file: %q, %v", body, err)
	}
	left, err := c.List(ctx, map[string]string{"kamal.assets": "1"}, true)
	if err != nil || len(left) != 0 {
		t.Errorf("extraction containers left behind: %v (%v)", left, err)
	}

	d.Assets.Path = "/missing"
	if _, err := b.Prepare(ctx, d, ""); !errors.Is(err, assets.ErrNoAssets) {
		t.Errorf("missing asset path: %v, want ErrNoAssets", err)
	}
}

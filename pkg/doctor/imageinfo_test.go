package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDockerCLIInspect builds a tiny image on the local engine (FROM
// scratch: nothing to pull) and reads it back as doctor does.
func TestDockerCLIInspect(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("the docker CLI is required: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blob"), make([]byte, 300_000), 0o644); err != nil {
		t.Fatal(err)
	}
	df := "FROM scratch\nCOPY blob /blob\nENV LD_PRELOAD=libjemalloc.so.2 RUBY_YJIT_ENABLE=1\nUSER 1000:1000\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := fmt.Sprintf("docker-kamal-doctor-test:%d", time.Now().UnixNano())
	build := exec.CommandContext(ctx, "docker", "build", "-q", "--label", "docker-kamal-test=1", "-t", ref, dir)
	build.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "image", "rm", "-f", ref).Run() }) // best effort: a leftover test image is harmless

	info, err := DockerCLI{}.InspectImage(ctx, ref)
	if err != nil || info == nil {
		t.Fatalf("InspectImage = %+v, %v", info, err)
	}
	if info.User != "1000:1000" || !strings.HasPrefix(info.ID, "sha256:") || info.Size < 300_000 {
		t.Errorf("info = %+v", info)
	}
	if v, _ := info.EnvValue("LD_PRELOAD"); v != "libjemalloc.so.2" {
		t.Errorf("LD_PRELOAD = %q", v)
	}
	var biggest int64
	for _, l := range info.Layers {
		biggest = max(biggest, l.Size)
	}
	if len(info.Layers) < 3 || biggest < 300_000 {
		t.Errorf("layers = %+v", info.Layers)
	}

	missing, err := DockerCLI{}.InspectImage(ctx, ref+"-missing")
	if err != nil || missing != nil {
		t.Errorf("missing image: %+v, %v", missing, err)
	}
}

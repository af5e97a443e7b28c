package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/pkg/imageship"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// shipTestLabel marks the local images TestImageShip builds.
const shipTestLabel = "kamal-e2e.imageship=1"

// TestImageShip ships v1 then v2 (one changed layer) of an image to two
// hosts over SSH and checks that v2 costs about its changed layer.
func TestImageShip(t *testing.T) {
	const (
		baseMB      = 16
		changedSize = 256 << 10 // random bytes added by v2's layer
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	v1, v2 := buildShipImages(t, ctx, baseMB, changedSize)
	f := harness.StartHosts(t, 2)

	pool, err := transport.NewPool(transportOptions(f))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var mu sync.Mutex
	progress := map[string]int64{}
	shipper := imageship.New(imageship.Options{Progress: func(host string, n int64) {
		mu.Lock()
		progress[host] = n
		mu.Unlock()
	}})
	defer shipper.Close()
	connect := func(ctx context.Context, host string) (imageship.Remote, error) { return pool.Get(ctx, host) }
	hosts := []string{f.Hosts[0].Name, f.Hosts[1].Name}

	ship := func(image string) []imageship.Result {
		t.Helper()
		results := shipper.ShipAll(ctx, image, hosts, connect)
		for i, r := range results {
			if r.Err != nil {
				t.Fatalf("ship %s to %s: %v", image, hosts[i], r.Err)
			}
			id, err := f.Hosts[i].Docker(ctx, "image", "inspect", "--format", "{{.Id}}", image)
			if err != nil || id != r.ImageID {
				t.Fatalf("%s on %s: ID %q (%v), want %s", image, hosts[i], id, err, r.ImageID)
			}
			mu.Lock()
			if progress[hosts[i]] != r.Bytes {
				t.Errorf("last progress for %s = %d, want %d", hosts[i], progress[hosts[i]], r.Bytes)
			}
			mu.Unlock()
			t.Logf("%s -> %s: %d bytes, %d/%d layers skipped, %v", image, hosts[i], r.Bytes, r.LayersSkipped, r.Layers, r.Duration.Round(time.Millisecond))
		}
		return results
	}

	// v1 to blank hosts: everything (random data does not compress).
	for _, r := range ship(v1) {
		if r.LayersSkipped != 0 || r.Bytes < baseMB<<20 {
			t.Errorf("v1 to %s: %d bytes, %d layers skipped; want the full image", r.Host, r.Bytes, r.LayersSkipped)
		}
	}
	// v2: only the changed layer.
	limit := int64(changedSize)*12/10 + 32<<10
	full := fullArchiveSize(t, ctx, v2)
	for _, r := range ship(v2) {
		if r.LayersSkipped != r.Layers-1 {
			t.Errorf("v2 to %s: %d of %d layers skipped, want all but one", r.Host, r.LayersSkipped, r.Layers)
		}
		if r.Bytes > limit {
			t.Errorf("v2 to %s: %d bytes on the wire, want <= %d (1.2 x %d changed + overhead)", r.Host, r.Bytes, limit, changedSize)
		}
		t.Logf("one-layer change: %d bytes vs docker save %d bytes (%.1f%%)", r.Bytes, full, 100*float64(r.Bytes)/float64(full))
	}
	// Again: nothing to send.
	for _, r := range ship(v2) {
		if !r.Present || r.Bytes != 0 {
			t.Errorf("v2 again to %s: %+v", r.Host, r)
		}
	}
}

// fullArchiveSize is the size of `docker save image`, the baseline.
func fullArchiveSize(tb testing.TB, ctx context.Context, image string) int64 {
	tb.Helper()
	cmd := exec.CommandContext(ctx, "docker", "save", image)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	n, err := io.Copy(io.Discard, out)
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// buildShipImages builds, on the machine's engine, a base imported from
// baseMB of random data and v1, v2 on top of it, each adding one file of
// changedSize random bytes. They are removed at cleanup.
func buildShipImages(tb testing.TB, ctx context.Context, baseMB, changedSize int) (v1, v2 string) {
	tb.Helper()
	var sfx [4]byte
	rand.Read(sfx[:])
	tag := fmt.Sprintf("%x", sfx)
	base := "kamal-e2e-ship-base:" + tag
	v1, v2 = "kamal-e2e-ship-app:"+tag+"-v1", "kamal-e2e-ship-app:"+tag+"-v2"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = exec.CommandContext(ctx, "docker", "rmi", "-f", v2, v1, base).Run()
	})

	rootfs := tarOf(tb, func(add func(string, []byte)) {
		for i := range baseMB {
			add(fmt.Sprintf("data/blob%d", i), randomBytes(tb, 1<<20))
		}
	})
	localDocker(tb, ctx, rootfs, "import", "--change", "LABEL "+shipTestLabel, "-", base)
	for _, v := range []string{v1, v2} {
		bctx := tarOf(tb, func(add func(string, []byte)) {
			add("Dockerfile", []byte("FROM "+base+"\nLABEL "+shipTestLabel+"\nCOPY app.bin /app.bin\n"))
			add("app.bin", randomBytes(tb, changedSize))
		})
		localDocker(tb, ctx, bctx, "build", "-q", "-t", v, "-")
	}
	return v1, v2
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

func tarOf(tb testing.TB, fill func(add func(name string, body []byte))) *bytes.Buffer {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	fill(func(name string, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			tb.Fatal(err)
		}
	})
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return &buf
}

func localDocker(tb testing.TB, ctx context.Context, stdin io.Reader, args ...string) string {
	tb.Helper()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

package imageship

// Integration test against this machine's Docker engine, without SSH: the
// "host" is the same engine, reached through a Remote that runs commands with
// the local shell. The image to ship is saved first, then deleted, so the
// engine holds only its base, as a host with the previous version would.

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
	"testing"
	"time"
)

const testLabel = "kamal.test=imageship"

// localRemote runs commands on this machine.
type localRemote struct{}

func (localRemote) Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	return c.Run()
}

// claimingRemote is localRemote whose image listing also claims an image
// holding layers, as if the host had pruned it after answering.
type claimingRemote struct {
	localRemote
	claim string
}

func (r claimingRemote) Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error {
	if strings.Contains(cmd, "image ls") {
		fmt.Fprintln(stdout, r.claim)
	}
	return r.localRemote.Run(ctx, cmd, stdin, stdout, stderr)
}

func dockerCmd(tb testing.TB, ctx context.Context, stdin io.Reader, args ...string) string {
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

func imageExists(ctx context.Context, ref string) bool {
	return exec.CommandContext(ctx, "docker", "image", "inspect", ref).Run() == nil
}

// testImages builds base (an import of baseMB of random data) and v1, v2 on
// top of it, each adding one small file. It removes them all at cleanup.
func testImages(tb testing.TB, ctx context.Context, baseMB int) (base, v1, v2 string) {
	tb.Helper()
	if err := exec.CommandContext(ctx, "docker", "version").Run(); err != nil {
		tb.Skipf("no local Docker engine: %v", err)
	}
	var sfx [4]byte
	rand.Read(sfx[:])
	tag := fmt.Sprintf("%x", sfx)
	base = "kamal-ship-test-base:" + tag
	v1 = "kamal-ship-test-app:" + tag + "-v1"
	v2 = "kamal-ship-test-app:" + tag + "-v2"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		exec.CommandContext(ctx, "docker", "rmi", "-f", v2, v1, base).Run()
	})

	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	chunk := make([]byte, 1<<20)
	for i := range baseMB {
		rand.Read(chunk)
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("data/blob%d", i), Mode: 0o644, Size: int64(len(chunk))})
		tw.Write(chunk)
	}
	tw.Close()
	dockerCmd(tb, ctx, &rootfs, "import", "--change", "LABEL "+testLabel, "-", base)

	for _, v := range []string{v1, v2} {
		var bctx bytes.Buffer
		tw := tar.NewWriter(&bctx)
		files := map[string]string{
			"Dockerfile": "FROM " + base + "\nLABEL " + testLabel + "\nCOPY app.txt /app.txt\n",
			"app.txt":    "application code for " + v + "\n",
		}
		for name, body := range files {
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
			tw.Write([]byte(body))
		}
		tw.Close()
		dockerCmd(tb, ctx, &bctx, "build", "-q", "-t", v, "-")
	}
	return base, v1, v2
}

func TestShipLocalEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const baseMB = 8
	base, v1, v2 := testImages(t, ctx, baseMB)

	s := New(Options{TempDir: t.TempDir()})
	defer s.Close()
	li, err := s.inspectLocal(ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.saveLocal(ctx, li); err != nil {
		t.Fatal(err)
	}
	full, err := os.Stat(li.archive)
	if err != nil {
		t.Fatal(err)
	}
	if len(li.layers) != 2 {
		t.Fatalf("v2 has %d layers, want 2 (base + app.txt)", len(li.layers))
	}

	// The host has v1 (hence the base) but not v2.
	dockerCmd(t, ctx, nil, "rmi", v2)
	if imageExists(ctx, v2) {
		t.Fatal("v2 still present after rmi")
	}
	res := s.Ship(ctx, "local", localRemote{}, v2)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got := dockerCmd(t, ctx, nil, "image", "inspect", "--format", "{{.Id}}", v2); got != li.id {
		t.Fatalf("loaded image ID %s, want %s", got, li.id)
	}
	if res.Present || res.Retried || res.LayersSkipped != 1 || res.Layers != 2 {
		t.Errorf("result %+v", res)
	}
	// The one changed layer is a few KiB of tar; the base is baseMB MiB.
	if res.Bytes > 64<<10 {
		t.Errorf("shipped %d bytes for a one-file layer (full archive %d)", res.Bytes, full.Size())
	}
	t.Logf("one-layer change: %d bytes on the wire, full archive %d bytes (%.4f), %v",
		res.Bytes, full.Size(), float64(res.Bytes)/float64(full.Size()), res.Duration)

	// Shipping again sends nothing.
	again := s.Ship(ctx, "local", localRemote{}, v2)
	if again.Err != nil || !again.Present || again.Bytes != 0 {
		t.Errorf("second ship: %+v", again)
	}

	// The host claims the base but lost it before the load: the partial
	// archive fails on the real engine and the full one is sent.
	dockerCmd(t, ctx, nil, "rmi", v2, v1, base)
	if imageExists(ctx, base) {
		t.Fatal("base still present")
	}
	claim := hostLine("sha256:"+strings.Repeat("0", 64), li.layers[:1])
	res = s.Ship(ctx, "local", claimingRemote{claim: claim}, v2)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if !res.Retried || res.Bytes < int64(baseMB)<<20 {
		t.Errorf("pruned-layer retry: %+v", res)
	}
	if got := dockerCmd(t, ctx, nil, "image", "inspect", "--format", "{{.Id}}", v2); got != li.id {
		t.Fatalf("after retry: image ID %s, want %s", got, li.id)
	}
}

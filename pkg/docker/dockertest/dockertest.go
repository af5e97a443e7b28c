// Package dockertest gives integration tests a real Docker engine client, a
// tiny FROM-scratch HTTP app image built from ./testapp, and labelled,
// self-cleaning networks and containers.
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Label marks every object the tests create; Cleanup removes by it.
const Label = "kamal.test"

// socket is the engine the integration tests use.
const socket = "/var/run/docker.sock"

// Client returns a client for the local engine. A missing engine fails the
// test: these are integration tests, and `make test` runs them on purpose.
func Client(t testing.TB) *docker.Client {
	t.Helper()
	if _, err := os.Stat(socket); err != nil {
		t.Fatalf("no docker engine at %s (start dockerd; .ci/run does): %v", socket, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := docker.New(ctx, "unix://"+socket)
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() }) // the test is over: idle connections only
	return c
}

var (
	imageMu  sync.Mutex
	imageRef string
)

// AppImage builds (once per process, and reused across runs by content
// hash) the testapp image and returns its reference. The image is labelled
// with Label.
func AppImage(t testing.TB, c *docker.Client) string {
	t.Helper()
	imageMu.Lock()
	defer imageMu.Unlock()
	if imageRef != "" {
		return imageRef
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "testapp")
	bin := filepath.Join(t.TempDir(), "app")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build testapp: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	ref := "kamal-testapp:" + hex.EncodeToString(sum[:6])
	if _, err := c.ImageInspect(ctx, ref); err == nil {
		imageRef = ref
		return ref
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "app", Mode: 0o755, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	changes := []string{`CMD ["/app"]`, "EXPOSE 8080", "LABEL " + Label + "=1"}
	if _, err := c.ImageImport(ctx, &buf, ref, changes); err != nil {
		t.Fatalf("import testapp image: %v", err)
	}
	imageRef = ref
	return ref
}

// Network creates a labelled bridge network with a unique name and removes
// it (and every container on it carrying Label) when the test ends.
func Network(t testing.TB, c *docker.Client) string {
	t.Helper()
	name := "kamal-test-" + Unique(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.NetworkCreate(ctx, name, map[string]string{Label: "1"}); err != nil {
		t.Fatalf("create test network: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		RemoveContainers(t, c, map[string]string{Label: name})
		if err := c.NetworkRemove(ctx, name); err != nil && !docker.IsNotFound(err) {
			t.Errorf("remove test network: %v", err)
		}
	})
	return name
}

// RemoveContainers force-removes every container carrying all labels.
func RemoveContainers(t testing.TB, c *docker.Client, labels map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs, err := c.List(ctx, labels, true)
	if err != nil {
		t.Errorf("list test containers: %v", err)
		return
	}
	for _, ct := range cs {
		if err := c.Remove(ctx, ct.ID, true); err != nil && !docker.IsNotFound(err) {
			t.Errorf("remove test container %s: %v", ct.Name, err)
		}
	}
}

// Unique returns a short name fragment unique to this test run.
func Unique(t testing.TB) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s-%d-%d", t.Name(), os.Getpid(), time.Now().UnixNano()))
	return strings.ToLower(hex.EncodeToString(sum[:4]))
}

package docker_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/docker/dockertest"
)

// TestClientContainerLifecycle drives the real engine through every
// container call the swap uses.
func TestClientContainerLifecycle(t *testing.T) {
	c := dockertest.Client(t)
	if v := c.APIVersion(); v == "" {
		t.Fatal("no API version negotiated")
	}
	img := dockertest.AppImage(t, c)
	net := dockertest.Network(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	checkImageInspect(t, ctx, c, img)

	name := "kamal-test-" + dockertest.Unique(t)
	labels := map[string]string{dockertest.Label: net, "kamal.version": "v1"}
	id, err := c.Create(ctx, docker.ContainerSpec{
		Name: name, Image: img, Env: []string{"VERSION=v1"}, Labels: labels,
		Network: net, Aliases: []string{"web"}, Memory: "64m", Restart: "unless-stopped",
		StopTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	ct, err := c.Inspect(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	ip := ct.IPs[net]
	if !ct.Running() || ip == "" || ct.StartedAt.IsZero() || ct.Labels["kamal.version"] != "v1" || ct.Image != img {
		t.Fatalf("inspect %+v", ct)
	}
	body := getWithin(t, "http://"+ip+":8080/up", 10*time.Second)
	if !strings.Contains(body, "up v1") {
		t.Fatalf("GET /up = %q", body)
	}

	list, err := c.List(ctx, map[string]string{dockertest.Label: net, "kamal.version": ""}, false)
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Name != name || list[0].IPs[net] != ip {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if list, _ := c.List(ctx, map[string]string{dockertest.Label: net, "kamal.version": "v2"}, true); len(list) != 0 {
		t.Fatalf("list by other version = %+v", list)
	}

	logs, err := c.Logs(ctx, id, 10)
	if err != nil || !strings.Contains(logs, "testapp v1 booting") {
		t.Fatalf("logs = %q, %v", logs, err)
	}

	checkRenameStopRemove(t, ctx, c, id, name)
}

// checkImageInspect inspects the test app's image and a missing one.
func checkImageInspect(t *testing.T, ctx context.Context, c *docker.Client, img string) {
	t.Helper()
	image, err := c.ImageInspect(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(image.ID, "sha256:") || len(image.Layers) != 1 || image.HasHealthcheck {
		t.Fatalf("image %+v", image)
	}
	if _, err := c.ImageInspect(ctx, "kamal-no-such-image:x"); !docker.IsNotFound(err) {
		t.Fatalf("missing image: err = %v, want not found", err)
	}
}

// checkRenameStopRemove renames, stops and removes the running container
// id called name.
func checkRenameStopRemove(t *testing.T, ctx context.Context, c *docker.Client, id, name string) {
	t.Helper()
	if err := c.Rename(ctx, id, name+"_old"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Stop(ctx, id, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %s; the app should exit on SIGTERM at once", d)
	}
	ct, err := c.Inspect(ctx, name+"_old")
	if err != nil || ct.State != docker.StateExited || ct.FinishedAt.IsZero() {
		t.Fatalf("after stop: %+v, %v", ct, err)
	}
	logs, _ := c.Logs(ctx, id, 2) // an error leaves logs empty, which fails below
	if !strings.Contains(logs, "stopped") {
		t.Errorf("app did not drain on SIGTERM; logs %q", logs)
	}
	if err := c.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Inspect(ctx, id); !docker.IsNotFound(err) {
		t.Fatalf("inspect removed: %v", err)
	}
	if err := c.Start(ctx, id); !docker.IsNotFound(err) {
		t.Fatalf("start removed: %v", err)
	}
}

func TestClientNetworkEnsure(t *testing.T) {
	c := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "kamal-test-" + dockertest.Unique(t)
	id1, err := c.NetworkEnsure(ctx, name, map[string]string{dockertest.Label: "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.NetworkRemove(context.Background(), name) })
	id2, err := c.NetworkEnsure(ctx, name, nil)
	if err != nil || id1 != id2 {
		t.Fatalf("second ensure: %q %v, want %q", id2, err, id1)
	}
	n, err := c.NetworkInspect(ctx, name)
	if err != nil || n.Labels[dockertest.Label] != "1" {
		t.Fatalf("inspect: %+v %v", n, err)
	}
}

func TestClientImageLoadError(t *testing.T) {
	c := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.ImageLoad(ctx, strings.NewReader("this is not a tar archive")); err == nil {
		t.Fatal("loading garbage: want an error")
	}
}

func getWithin(t testing.TB, url string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			cancel()
			return string(b)
		}
		cancel()
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

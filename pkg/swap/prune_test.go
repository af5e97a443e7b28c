package swap

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// TestPruneAfterAnInterruptedSwap: a sidecar killed mid-swap never ran the
// swap's prune, so the host holds more stopped containers than
// retain_containers. Engine.Prune (the sidecar's reconcile calls it once it
// settled the swap) removes the oldest, never the kept green of the undone
// swap (which counts as retained) nor a running one; a warm container
// counts as retained too.
func TestPruneAfterAnInterruptedSwap(t *testing.T) {
	h := newHarness(t)
	w := &fakeWarm{until: map[string]time.Time{}}
	h.engine.Warm = w
	old := testDeploy("v0")
	for _, name := range []string{"app-web-v0a", "app-web-v0b", "app-web-v0c"} {
		h.docker.add(old, name, docker.StateExited)
	}
	warm := h.docker.add(testDeploy("v0w"), "app-web-v0w", docker.StateRunning)
	if err := w.Keep(webRole, warm.Name, time.Now().Add(time.Minute), time.Second); err != nil {
		t.Fatal(err)
	}
	blue := h.withBlue()
	green := h.docker.add(testDeploy("v2"), "app-web-v2", docker.StateExited) // the undone swap's
	d := testDeploy("v1")
	d.RetainContainers = 3

	pruned, err := h.engine.Prune(context.Background(), d, green.Name)
	if err != nil {
		t.Fatal(err)
	}
	// Retain 3: the warm one, the kept green and the newest other stopped.
	slices.Sort(pruned)
	if want := []string{"app-web-v0a", "app-web-v0b"}; !slices.Equal(pruned, want) {
		t.Errorf("pruned %v, want %v; left %v", pruned, want, h.docker.states())
	}
	for _, c := range []*docker.Container{blue, warm, green} {
		if h.docker.byName(c.Name) == nil {
			t.Errorf("%s was removed", c.Name)
		}
	}
	if h.docker.byName("app-web-v0c") == nil {
		t.Errorf("the newest stopped container was removed: %v", h.docker.states())
	}
}

// TestPruneWaitsForNoSwap: Prune refuses a role a swap is running on.
func TestPruneWaitsForNoSwap(t *testing.T) {
	h := newHarness(t)
	release, err := h.engine.acquire(webRole)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	d := testDeploy("v1")
	if _, err := h.engine.Prune(context.Background(), d, ""); !errors.Is(err, ErrBusy) {
		t.Errorf("err = %v, want ErrBusy", err)
	}
}

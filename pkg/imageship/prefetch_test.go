package imageship

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// listings counts the image listings h answered.
func (h *fakeHost) listings() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.cmds {
		if strings.Contains(c, "image ls") {
			n++
		}
	}
	return n
}

func TestPrefetchedInventoryServesTheNextShipOnce(t *testing.T) {
	img := makeArchive(t, []string{strings.Repeat("base ", 20000), "v4"}, synthOpts{})
	bin, _ := fakeDocker(t, img)
	s := New(Options{Docker: bin, TempDir: t.TempDir()})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := &fakeHost{loadedID: img.id, inventory: []string{hostLine("sha256:old", img.diffIDs[:1])}}
	s.PrefetchHost(ctx, "a", h)
	s.PrefetchHost(ctx, "a", h) // a second prefetch of the same host is one listing
	r := s.Ship(ctx, "a", h, "app:v4")
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if n := h.listings(); n != 1 {
		t.Fatalf("the host was listed %d times for a prefetched ship, want 1", n)
	}
	if r.LayersSkipped != 1 {
		t.Errorf("skipped %d layers, want the 1 the prefetched listing showed", r.LayersSkipped)
	}
	// The listing is used once: the next ship asks the host again (the
	// host lost the image meanwhile, so its inspect says no).
	h.mu.Lock()
	h.loads = nil
	h.mu.Unlock()
	if r := s.Ship(ctx, "a", h, "app:v4"); r.Err != nil {
		t.Fatal(r.Err)
	}
	if n := h.listings(); n != 2 {
		t.Errorf("listings after a second ship = %d, want 2", n)
	}
}

func TestCloseLeavesNoArchiveOfABackgroundSave(t *testing.T) {
	img := makeArchive(t, []string{"base", "v5"}, synthOpts{})
	bin, _ := fakeDocker(t, img)
	tmp := t.TempDir()
	s := New(Options{Docker: bin, TempDir: tmp})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The host has the image: Ship returns without waiting for the save
	// it started beside the listing.
	h := &fakeHost{inventory: []string{hostLine(img.id, img.diffIDs, "app:v5")}}
	if r := s.Ship(ctx, "a", h, "app:v5"); r.Err != nil || !r.Present {
		t.Fatalf("ship: %+v", r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("after Close the temp dir holds %v, want nothing", left)
	}
}

func TestAHostWithTheImageIsAskedOnce(t *testing.T) {
	img := makeArchive(t, []string{"base", "v6"}, synthOpts{})
	bin, log := fakeDocker(t, img)
	s := New(Options{Docker: bin, TempDir: t.TempDir()})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// loads is what makes the fake's inspect answer with loadedID.
	h := &fakeHost{loadedID: img.id, loads: [][]string{nil}}
	r := s.Ship(ctx, "a", h, "app:v6")
	if r.Err != nil || !r.Present {
		t.Fatalf("ship to a host that has the image: %+v", r)
	}
	if n := h.listings(); n != 0 {
		t.Errorf("the host was listed %d times, want 0: one inspect says it has the image", n)
	}
	if len(h.cmds) != 1 {
		t.Errorf("commands on the host %q, want the one inspect", h.cmds)
	}
	calls, _ := os.ReadFile(log)
	if strings.Contains(string(calls), "save") {
		t.Errorf("docker save ran for a host that had the image")
	}
}

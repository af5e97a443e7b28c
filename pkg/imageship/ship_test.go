package imageship

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// fakeHost is a Remote that plays a host's docker CLI: it answers the image
// listing from its inventory, records what `docker load` receives, and can
// fail the first load as if a layer had been pruned meanwhile.
type fakeHost struct {
	mu            sync.Mutex
	inventory     []string // lines of the image listing
	loadedID      string   // ID reported after a load
	failFirstLoad bool
	loads         [][]string // entry names received per load
	wireBytes     []int64    // bytes received per load
	cmds          []string
}

type exitErr struct{ code int }

func (e exitErr) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func (h *fakeHost) Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error {
	h.mu.Lock()
	h.cmds = append(h.cmds, cmd)
	h.mu.Unlock()
	switch {
	case strings.Contains(cmd, "image ls"):
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, l := range h.inventory {
			fmt.Fprintln(stdout, l)
		}
		return nil
	case strings.HasSuffix(cmd, "docker load"):
		data, err := io.ReadAll(stdin)
		if err != nil {
			return err
		}
		var r io.Reader = bytes.NewReader(data)
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			r = zr
		}
		var entries []string
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("bad archive: %w", err)
			}
			entries = append(entries, hdr.Name)
		}
		sort.Strings(entries)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.loads = append(h.loads, entries)
		h.wireBytes = append(h.wireBytes, int64(len(data)))
		if h.failFirstLoad && len(h.loads) == 1 {
			fmt.Fprintln(stderr, "open /var/lib/docker/tmp/docker-import-1/aaa/layer.tar: no such file or directory")
			return exitErr{1}
		}
		return nil
	case strings.Contains(cmd, "image inspect --format '{{.Id}}'"):
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.loads) == 0 {
			fmt.Fprintln(stderr, "Error: No such image")
			return exitErr{1}
		}
		fmt.Fprintln(stdout, h.loadedID)
		return nil
	case strings.Contains(cmd, " tag "):
		return nil
	}
	return fmt.Errorf("fake host: unexpected command %q", cmd)
}

// fakeDocker writes a local `docker` stand-in that answers inspect for img
// and saves img's archive, logging each call; it returns its path and log.
func fakeDocker(tb testing.TB, img synthImage) (bin, log string) {
	tb.Helper()
	dir := tb.TempDir()
	archive := filepath.Join(dir, "archive.tar")
	if err := os.WriteFile(archive, img.archive, 0o600); err != nil {
		tb.Fatal(err)
	}
	log = filepath.Join(dir, "log")
	line := fmt.Sprintf(`"%s" ["%s"]`, img.id, strings.Join(img.diffIDs, `","`))
	script := `#!/bin/sh
echo "$@" >> ` + log + `
while [ "${1#--}" != "$1" ]; do shift 2; done
case "$1" in
image) echo '` + line + `' ;;
save) cp ` + archive + ` "$3" ;;
*) echo "unexpected $1" >&2; exit 2 ;;
esac
`
	bin = filepath.Join(dir, "docker")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		tb.Fatal(err)
	}
	return bin, log
}

func hostLine(id string, layers []string, tags ...string) string {
	t := "null"
	if len(tags) > 0 {
		t = `["` + strings.Join(tags, `","`) + `"]`
	}
	return fmt.Sprintf(`"%s" ["%s"] %s`, id, strings.Join(layers, `","`), t)
}

func TestShip(t *testing.T) {
	img := makeArchive(t, []string{strings.Repeat("base ", 20000), "v1 code"}, synthOpts{manifestLast: true})
	all := names(t, img.archive)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tests := []struct {
		name      string
		host      *fakeHost
		present   bool
		skipped   int
		retried   bool
		wantLoads [][]string
		wantTag   bool
	}{
		{
			name:      "host has the base",
			host:      &fakeHost{inventory: []string{hostLine("sha256:old", []string{img.diffIDs[0], "sha256:v0"}, "app:v1")}},
			skipped:   1,
			wantLoads: [][]string{without(all, img.layers[0])},
		},
		{
			name:      "blank host",
			host:      &fakeHost{},
			wantLoads: [][]string{all},
		},
		{
			name:    "already there",
			host:    &fakeHost{inventory: []string{hostLine(img.id, img.diffIDs, "app:v2")}},
			present: true, skipped: 2,
		},
		{
			name:    "there under another tag",
			host:    &fakeHost{inventory: []string{hostLine(img.id, img.diffIDs, "other:tag")}},
			present: true, skipped: 2, wantTag: true,
		},
		{
			name:      "layer pruned between check and load",
			host:      &fakeHost{failFirstLoad: true, inventory: []string{hostLine("sha256:old", img.diffIDs[:1])}},
			retried:   true,
			wantLoads: [][]string{without(all, img.layers[0]), all},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, log := fakeDocker(t, img)
			tt.host.loadedID = img.id
			var progMu sync.Mutex
			var lastProgress int64
			s := New(Options{Docker: bin, DockerFlags: []string{"--context", "x"}, TempDir: t.TempDir(),
				Progress: func(host string, n int64) {
					progMu.Lock()
					defer progMu.Unlock()
					if host != "h1" || n < lastProgress {
						t.Errorf("progress %s %d after %d", host, n, lastProgress)
					}
					lastProgress = n
				}})
			defer s.Close()
			res := s.Ship(ctx, "h1", tt.host, "app:v2")
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if res.Present != tt.present || res.LayersSkipped != tt.skipped || res.Retried != tt.retried || res.Layers != 2 || res.ImageID != img.id {
				t.Errorf("result %+v", res)
			}
			if !reflect.DeepEqual(tt.host.loads, tt.wantLoads) {
				t.Errorf("loads\n got %v\nwant %v", tt.host.loads, tt.wantLoads)
			}
			var wire int64
			for _, n := range tt.host.wireBytes {
				wire += n
			}
			if res.Bytes != wire || lastProgress != wire {
				t.Errorf("Bytes %d, progress %d, host received %d", res.Bytes, lastProgress, wire)
			}
			tagged := false
			for _, c := range tt.host.cmds {
				tagged = tagged || strings.Contains(c, "docker tag "+img.id+" app:v2")
			}
			if tagged != tt.wantTag {
				t.Errorf("tagged %v, want %v (cmds %q)", tagged, tt.wantTag, tt.host.cmds)
			}
			calls, _ := os.ReadFile(log)
			if !strings.HasPrefix(string(calls), "--context x image inspect") {
				t.Errorf("local docker calls:\n%s", calls)
			}
			saved := strings.Count(string(calls), " save ")
			if want := map[bool]int{true: 0, false: 1}[tt.present]; saved != want {
				t.Errorf("docker save ran %d times, want %d", saved, want)
			}
		})
	}
}

func TestShipAll(t *testing.T) {
	img := makeArchive(t, []string{strings.Repeat("base ", 20000), "v2"}, synthOpts{})
	bin, log := fakeDocker(t, img)
	s := New(Options{Docker: bin, MaxParallel: 2, TempDir: t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	hosts := []string{"a", "b", "c", "d", "down"}
	fakes := map[string]*fakeHost{}
	for _, h := range hosts[:4] {
		fakes[h] = &fakeHost{loadedID: img.id, inventory: []string{hostLine("sha256:old", img.diffIDs[:1])}}
	}
	errRefused := errors.New("connection refused")
	results := s.ShipAll(ctx, "app:v2", hosts, func(ctx context.Context, host string) (Remote, error) {
		if f, ok := fakes[host]; ok {
			return f, nil
		}
		return nil, errRefused
	})
	for i, r := range results[:4] {
		if r.Err != nil || r.Host != hosts[i] || r.LayersSkipped != 1 || r.Bytes == 0 {
			t.Errorf("host %s: %+v", hosts[i], r)
		}
	}
	if r := results[4]; !errors.Is(r.Err, errRefused) || r.Host != "down" || r.Image != "app:v2" {
		t.Errorf("down host: %+v, want the connect error", r)
	}
	calls, _ := os.ReadFile(log)
	if n := strings.Count(string(calls), "save"); n != 1 {
		t.Errorf("docker save ran %d times for 4 hosts", n)
	}
	if n := strings.Count(string(calls), "inspect"); n != 1 {
		t.Errorf("docker image inspect ran %d times for 4 hosts", n)
	}

	// Hosts lacking the same layers get one payload, written once.
	payloads, _ := filepath.Glob(filepath.Join(s.dir, "payload-*"))
	if len(payloads) != 1 {
		t.Errorf("payload files %v, want one for 4 hosts lacking the same layer", payloads)
	}
	for _, h := range hosts[1:4] {
		if fakes[h].wireBytes[0] != fakes["a"].wireBytes[0] {
			t.Errorf("host %s received %d bytes, host a %d", h, fakes[h].wireBytes[0], fakes["a"].wireBytes[0])
		}
	}

	dir := s.dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close left %s: %v", dir, err)
	}
}

func TestShipLoadFailure(t *testing.T) {
	img := makeArchive(t, []string{"base", "v2"}, synthOpts{})
	bin, _ := fakeDocker(t, img)
	s := New(Options{Docker: bin, TempDir: t.TempDir()})
	defer s.Close()
	// A load failure that is not a missing layer is not retried.
	h := &failingLoad{}
	res := s.Ship(context.Background(), "h1", h, "app:v2")
	var le *LoadError
	if !errors.As(res.Err, &le) || le.Stderr != "write /var/lib/docker/tmp/x: no space left on device" || errors.Is(res.Err, ErrLayerMissing) {
		t.Fatalf("got %v, want a LoadError with the host's stderr, not ErrLayerMissing", res.Err)
	}
	if h.loads != 1 || res.Retried {
		t.Errorf("loads %d retried %v", h.loads, res.Retried)
	}
}

type failingLoad struct{ loads int }

func (f *failingLoad) Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error {
	if strings.HasSuffix(cmd, " load") {
		f.loads++
		io.Copy(io.Discard, bufio.NewReader(stdin))
		fmt.Fprintln(stderr, "write /var/lib/docker/tmp/x: no space left on device")
		return exitErr{1}
	}
	return nil // empty inventory
}

func TestLoadErrorLayerMissing(t *testing.T) {
	const pruned = "open /var/lib/docker/tmp/docker-import-1/aaa/layer.tar: no such file or directory"
	exit1 := &transport.ExitError{Code: 1}
	tests := []struct {
		name    string
		runErr  error
		stderr  string
		skip    int
		missing bool
	}{
		{name: "layer file left out", runErr: exit1, stderr: pruned, skip: 1, missing: true},
		{name: "layer store lacks the layer", runErr: exit1, stderr: "Error: layer does not exist", skip: 2, missing: true},
		{name: "said in the exit error", runErr: &transport.ExitError{Code: 1, Stderr: pruned}, skip: 1, missing: true},
		{name: "nothing was left out", runErr: exit1, stderr: pruned, skip: 0},
		{name: "disk full", runErr: exit1, stderr: "write /var/lib/docker/tmp/x: no space left on device", skip: 1},
		{name: "connection lost", runErr: errors.New("run remote command: connection lost"), skip: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fmt.Errorf("ship app to h: %w", newLoadError(tt.runErr, tt.stderr, tt.skip))
			if errors.Is(err, ErrLayerMissing) != tt.missing {
				t.Errorf("errors.Is(%v, ErrLayerMissing) = %v, want %v", err, !tt.missing, tt.missing)
			}
			var le *LoadError
			if !errors.As(err, &le) || !errors.Is(err, tt.runErr) || le.Stderr != tt.stderr {
				t.Errorf("%v: want a LoadError wrapping %v with stderr %q", err, tt.runErr, tt.stderr)
			}
		})
	}
}

// TestPrepareSavesOnceAheadOfShip: Prepare runs the local save, and the
// ship that follows sends from it without saving again.
func TestPrepareSavesOnceAheadOfShip(t *testing.T) {
	img := makeArchive(t, []string{strings.Repeat("base ", 20000), "v3"}, synthOpts{})
	bin, log := fakeDocker(t, img)
	s := New(Options{Docker: bin, MaxParallel: 2, TempDir: t.TempDir()})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Prepare(ctx, "app:v3"); err != nil {
		t.Fatal(err)
	}
	calls, _ := os.ReadFile(log)
	if n := strings.Count(string(calls), "save"); n != 1 {
		t.Fatalf("Prepare ran docker save %d times, want 1", n)
	}
	h := &fakeHost{loadedID: img.id, inventory: []string{hostLine("sha256:old", img.diffIDs[:1])}}
	if r := s.Ship(ctx, "a", h, "app:v3"); r.Err != nil || r.Bytes == 0 {
		t.Fatalf("ship after prepare: %+v", r)
	}
	calls, _ = os.ReadFile(log)
	if n := strings.Count(string(calls), "save"); n != 1 {
		t.Errorf("docker save ran %d times in all, want 1 (the ship reuses the prepared archive)", n)
	}
}

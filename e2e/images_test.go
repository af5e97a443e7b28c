package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// TestImages builds (or reuses) every image the e2e suite uses and checks the
// sample app's layering: versions differ only in a small top layer over a
// large shared base.
func TestImages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	refs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatalf("build images: %v", err)
	}
	t.Logf("images ready in %v: %v", time.Since(start).Round(time.Millisecond), refs)

	v1, err := harness.BuildSampleApp(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	v2, err := harness.BuildSampleApp(ctx, "v2")
	if err != nil {
		t.Fatal(err)
	}
	l1, l2 := layers(t, v1), layers(t, v2)
	if len(l1) < 2 || len(l1) != len(l2) {
		t.Fatalf("layers: v1 %d, v2 %d; want equal counts >= 2", len(l1), len(l2))
	}
	for i := 0; i < len(l1)-1; i++ {
		if l1[i] != l2[i] {
			t.Errorf("layer %d differs between v1 and v2; only the top layer should", i)
		}
	}
	if l1[len(l1)-1] == l2[len(l2)-1] {
		t.Errorf("top layers of v1 and v2 are equal; the version should be baked in")
	}
	base := sizeOf(t, harness.MustInspect(t, v1, "{{.Size}}")) - sizeOf(t, topLayerSize(t, v1))
	if base < 80<<20 {
		t.Errorf("base of the sample app is %d bytes; want about 100 MB", base)
	}
}

func layers(t *testing.T, ref string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(harness.MustInspect(t, ref, "{{json .RootFS.Layers}}")), &out); err != nil {
		t.Fatalf("layers of %s: %v", ref, err)
	}
	return out
}

func topLayerSize(t *testing.T, ref string) string {
	t.Helper()
	out := harness.MustDocker(t, "history", "--no-trunc", "--format", "{{.Size}}\t{{.CreatedBy}}", "--human=false", ref)
	for _, line := range strings.Split(out, "\n") {
		size, by, _ := strings.Cut(line, "\t")
		if strings.Contains(by, "COPY") {
			return size
		}
	}
	t.Fatalf("no COPY layer in history of %s:\n%s", ref, out)
	return ""
}

func sizeOf(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range strings.TrimSpace(s) {
		if c < '0' || c > '9' {
			t.Fatalf("size %q is not a number", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

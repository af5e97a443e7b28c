package fleetops

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// TestBuildOptions: the builder section and --no-cache as the build gets
// them, outside git (the app directory is built): paths relative to the
// app, the platform, and the registry cache's image (Kamal's
// <image>-build-cache on the registry, or cache.image) imported and
// exported inline.
func TestBuildOptions(t *testing.T) {
	app := t.TempDir()
	cfg := &spec.Config{Service: "app", Image: "me/app", Registry: &spec.Registry{Server: "reg.example:5000"},
		Builder: spec.Builder{Arch: []string{"amd64"}, Dockerfile: "docker/Dockerfile", Target: "web", Context: "src",
			Cache: &spec.BuilderCache{Type: "registry"}}}
	var out bytes.Buffer
	s := newSession(Options{ConfigFile: filepath.Join(app, "config", "deploy.yml"), NoCache: true, DockerFlags: []string{"--context", "x"}},
		cfg, output.New(&out, &out, output.Normal, nil), nil)
	o, err := s.buildOptions(context.Background(), "v1")
	if err != nil {
		t.Fatal(err)
	}
	ref := "reg.example:5000/me/app-build-cache"
	checks := []struct {
		what      string
		got, want any
	}{
		{"flags", o.DockerFlags, []string{"--context", "x"}},
		{"context", o.Context, filepath.Join(app, "src")},
		{"dockerfile", o.Dockerfile, filepath.Join(app, "docker", "Dockerfile")},
		{"platform", o.Platform, "linux/amd64"},
		{"no cache", o.NoCache, true},
		{"tags", o.Tags, []string{"reg.example:5000/me/app:v1", "reg.example:5000/me/app:latest", ref}},
		{"cache from", o.CacheFrom, []string{"type=registry,ref=" + ref}},
		{"cache to", o.CacheTo, []string{"type=inline"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	cfg.Builder.Cache.Image = "caches/app"
	if got := s.cacheRef(); got != "reg.example:5000/caches/app" {
		t.Errorf("cache.image ref %q", got)
	}
	if out.Len() != 0 {
		t.Errorf("a build outside git printed %q", out.String())
	}
}

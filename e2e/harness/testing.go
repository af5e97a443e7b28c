package harness

import (
	"context"
	"testing"
	"time"
)

// MustDocker runs the docker CLI on the machine and fails the test on error.
func MustDocker(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := docker(ctx, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// MustInspect returns `docker image inspect --format format ref`.
func MustInspect(t testing.TB, ref, format string) string {
	t.Helper()
	return MustDocker(t, "image", "inspect", "--format", format, ref)
}

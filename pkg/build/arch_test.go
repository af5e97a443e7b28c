package build

import (
	"context"
	"errors"
	"testing"
)

// An inspect cut short by an interrupt says it was cancelled, not what the
// killed docker process exited with.
func TestImageArchCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ImageArch(ctx, nil, "kamal-e2e-app:none"); !errors.Is(err, context.Canceled) {
		t.Fatalf("ImageArch on a cancelled context = %v, want context.Canceled", err)
	}
}

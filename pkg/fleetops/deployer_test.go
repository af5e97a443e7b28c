package fleetops

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// A rollback that comes while the cancelled deploy still holds the role on
// the sidecar is tried again until the role is free.
func TestRetryConflictWaitsForTheRole(t *testing.T) {
	calls := 0
	err := retryConflict(context.Background(), func() error {
		calls++
		if calls < 3 {
			return &contract.Error{Code: contract.CodeConflict, Message: "a deploy is already under way"}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("retryConflict = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestRetryConflictStopsOnOtherErrorsAndAtTheDeadline(t *testing.T) {
	other := errors.New("boom")
	calls := 0
	if err := retryConflict(context.Background(), func() error { calls++; return other }); !errors.Is(err, other) || calls != 1 {
		t.Fatalf("retryConflict = %v after %d calls, want boom after 1", err, calls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*conflictRetry/2)
	defer cancel()
	start := time.Now()
	err := retryConflict(ctx, func() error { return &contract.Error{Code: contract.CodeConflict} })
	if !errors.Is(err, contract.ErrConflict) || time.Since(start) > 5*conflictRetry {
		t.Fatalf("retryConflict = %v after %v, want the conflict once ctx ended", err, time.Since(start))
	}
}

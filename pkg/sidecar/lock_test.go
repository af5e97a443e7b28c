package sidecar

import (
	"errors"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

func TestLock(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := t.TempDir()
	l := NewLock(dir, time.Hour, clock)

	st, ch, err := l.Acquire(contract.LockRequest{Holder: "alice", Message: "deploy", Version: "v2"})
	if err != nil || !st.Locked || st.Holder != "alice" || ch.Action != "lock" || !st.AcquiredAt.Equal(now) {
		t.Fatalf("acquire free lock: %+v %+v %v", st, ch, err)
	}

	_, _, err = l.Acquire(contract.LockRequest{Holder: "bob"})
	var apiErr *contract.Error
	if !errors.Is(err, contract.ErrLockHeld) || !errors.As(err, &apiErr) || apiErr.Lock == nil || apiErr.Lock.Holder != "alice" {
		t.Fatalf("acquire held lock: want ErrLockHeld naming alice, got %v", err)
	}
	if apiErr.Lock.Stale {
		t.Errorf("fresh lock reported stale")
	}

	// Same holder re-acquires (refresh).
	if _, ch, err := l.Acquire(contract.LockRequest{Holder: "alice", Version: "v3"}); err != nil || ch.Action != "lock-refresh" {
		t.Fatalf("re-acquire by holder: %+v %v", ch, err)
	}

	// A new Lock over the same dir (sidecar restart) sees it, stale later.
	now = now.Add(2 * time.Hour)
	l2 := NewLock(dir, time.Hour, clock)
	st, err = l2.Status()
	if err != nil || !st.Locked || st.Holder != "alice" || st.Version != "v3" || !st.Stale {
		t.Fatalf("status after restart: %+v %v", st, err)
	}

	if _, _, err := l2.Release(contract.LockRequest{Holder: "bob"}); !errors.Is(err, contract.ErrLockNotOwned) {
		t.Fatalf("release by non-holder: want ErrLockNotOwned, got %v", err)
	}
	st, ch, err = l2.Acquire(contract.LockRequest{Holder: "bob", Force: true})
	if err != nil || st.Holder != "bob" || ch.Action != "lock-break" || ch.Previous.Holder != "alice" {
		t.Fatalf("force break: %+v %+v %v", st, ch, err)
	}
	st, ch, err = l2.Release(contract.LockRequest{Holder: "bob"})
	if err != nil || st.Locked || ch.Action != "unlock" {
		t.Fatalf("release: %+v %+v %v", st, ch, err)
	}
	st, ch, err = l2.Release(contract.LockRequest{Holder: "bob"})
	if err != nil || st.Locked || ch.Action != "" {
		t.Fatalf("release free lock: %+v %+v %v", st, ch, err)
	}
	if _, _, err := l2.Acquire(contract.LockRequest{Holder: "carol"}); err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	if _, ch, err := l2.Release(contract.LockRequest{Holder: "dave", Force: true}); err != nil || ch.Action != "unlock-force" {
		t.Fatalf("force release: %+v %v", ch, err)
	}
}

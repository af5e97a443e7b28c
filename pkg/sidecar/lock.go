package sidecar

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/atomicfile"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// lockFile is the deploy lock's file in the state dir.
const lockFile = "lock.json"

// Lock is the host's deploy lock, persisted so it survives a sidecar
// restart. The plugin holds it on the primary host for a whole deploy.
type Lock struct {
	path       string
	staleAfter time.Duration
	now        func() time.Time

	mu sync.Mutex
}

// lockRecord is the persisted lock.
type lockRecord struct {
	Holder     string    `json:"holder"`
	Message    string    `json:"message,omitempty"`
	Version    string    `json:"version,omitempty"`
	AcquiredAt time.Time `json:"acquiredAt"`
}

// NewLock returns the lock stored in stateDir; a lock held longer than
// staleAfter is reported stale.
func NewLock(stateDir string, staleAfter time.Duration, now func() time.Time) *Lock {
	if now == nil {
		now = time.Now
	}
	return &Lock{path: filepath.Join(stateDir, lockFile), staleAfter: staleAfter, now: now}
}

// Status reads the lock.
func (l *Lock) Status() (contract.LockStatus, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec, err := l.read()
	if err != nil {
		return contract.LockStatus{}, err
	}
	return l.status(rec), nil
}

// LockChange says what Acquire or Release did, for the audit log.
type LockChange struct {
	// Action is "lock", "lock-refresh", "lock-break", "unlock",
	// "unlock-force" or "" when nothing changed.
	Action string
	// Previous is the lock before the change.
	Previous contract.LockStatus
}

// Acquire takes the lock for req.Holder. The same holder may re-acquire
// (refreshing message and version). Another holder's lock is an *Error
// matching ErrLockHeld unless req.Force breaks it.
func (l *Lock) Acquire(req contract.LockRequest) (contract.LockStatus, LockChange, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec, err := l.read()
	if err != nil {
		return contract.LockStatus{}, LockChange{}, err
	}
	prev := l.status(rec)
	change := LockChange{Action: "lock", Previous: prev}
	if rec != nil {
		switch {
		case rec.Holder == req.Holder:
			change.Action = "lock-refresh"
		case req.Force:
			change.Action = "lock-break"
		default:
			msg := fmt.Sprintf("deploy lock held by %s since %s", rec.Holder, rec.AcquiredAt.Format(time.RFC3339))
			if prev.Stale {
				msg += " (stale: break it with force)"
			}
			return prev, LockChange{Previous: prev}, &contract.Error{Code: contract.CodeLockHeld, Message: msg, Lock: &prev}
		}
	}
	next := &lockRecord{Holder: req.Holder, Message: req.Message, Version: req.Version, AcquiredAt: l.now().UTC()}
	if err := writeJSONAtomic(l.path, next); err != nil {
		return prev, LockChange{Previous: prev}, fmt.Errorf("write lock: %w", err)
	}
	return l.status(next), change, nil
}

// Release frees the lock held by req.Holder, or anyone's with req.Force.
// Releasing a free lock is not an error.
func (l *Lock) Release(req contract.LockRequest) (contract.LockStatus, LockChange, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec, err := l.read()
	if err != nil {
		return contract.LockStatus{}, LockChange{}, err
	}
	prev := l.status(rec)
	if rec == nil {
		return prev, LockChange{Previous: prev}, nil
	}
	action := "unlock"
	if rec.Holder != req.Holder {
		if !req.Force {
			return prev, LockChange{Previous: prev}, &contract.Error{Code: contract.CodeLockNotOwned,
				Message: fmt.Sprintf("deploy lock is held by %s, not %s", rec.Holder, req.Holder), Lock: &prev}
		}
		action = "unlock-force"
	}
	if err := atomicfile.Remove(l.path); err != nil {
		return prev, LockChange{Previous: prev}, fmt.Errorf("remove lock: %w", err)
	}
	return contract.LockStatus{}, LockChange{Action: action, Previous: prev}, nil
}

func (l *Lock) read() (*lockRecord, error) {
	var rec lockRecord
	err := readJSON(l.path, &rec)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	return &rec, nil
}

func (l *Lock) status(rec *lockRecord) contract.LockStatus {
	if rec == nil {
		return contract.LockStatus{}
	}
	return contract.LockStatus{
		Locked:     true,
		Holder:     rec.Holder,
		Message:    rec.Message,
		Version:    rec.Version,
		AcquiredAt: rec.AcquiredAt,
		Stale:      l.staleAfter > 0 && l.now().Sub(rec.AcquiredAt) > l.staleAfter,
	}
}

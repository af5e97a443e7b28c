package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// Warm-container tunables.
const (
	// warmFile is the warm set in the state dir.
	warmFile = "warm.json"
	// warmRetry is how soon an expired container whose role is busy, or
	// whose stop failed, is tried again.
	warmRetry = time.Second
	// warmStopBound bounds one stop beyond its stop timeout.
	warmStopBound = 15 * time.Second
	// actionStopWarm marks a role busy while its warm container stops.
	actionStopWarm = "stop-warm"
)

// warmEntry is one container kept running out of rotation.
type warmEntry struct {
	Role        contract.Role     `json:"role"`
	Container   string            `json:"container"`
	Until       time.Time         `json:"until"`
	StopTimeout contract.Duration `json:"stopTimeout"`
}

// warmKeeper is the swap engine's WarmSet: the warm containers, persisted
// in <state>/warm.json (so a restarted sidecar stops each on time), and the
// timer loop (run) that stops each when its window ends, unless it serves
// again by then.
type warmKeeper struct {
	path string
	log  *slog.Logger
	now  func() time.Time
	wake chan struct{}

	mu      sync.Mutex
	entries []warmEntry
	// Set by attach: the engine's stop, the role table's begin, and whether
	// a container is its role's live one.
	stop  func(ctx context.Context, name string, timeout time.Duration) error
	begin func(contract.Role, string) (func(), error)
	live  func(contract.Role) string
}

var _ swap.WarmSet = (*warmKeeper)(nil)

// newWarmKeeper loads the warm set from stateDir.
func newWarmKeeper(stateDir string, log *slog.Logger) (*warmKeeper, error) {
	k := &warmKeeper{path: filepath.Join(stateDir, warmFile), log: log.With("component", "warm"), now: time.Now, wake: make(chan struct{}, 1)}
	if err := readJSON(k.path, &k.entries); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load warm containers: %w", err)
	}
	return k, nil
}

// attach wires the keeper to the server's role table and the engine.
func (k *warmKeeper) attach(stop func(context.Context, string, time.Duration) error, begin func(contract.Role, string) (func(), error), live func(contract.Role) string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stop, k.begin, k.live = stop, begin, live
}

// isLiveLocked reports whether name is role's live container.
func (k *warmKeeper) isLiveLocked(role contract.Role, name string) bool {
	return k.live != nil && k.live(role) == name
}

// Live names the container the role's proxy routed to after its last swap
// (the journal's), "" when unknown.
func (k *warmKeeper) Live(role contract.Role) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.live == nil {
		return ""
	}
	return k.live(role)
}

// Warm names the role's warm containers (never its live one).
func (k *warmKeeper) Warm(role contract.Role) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, e := range k.entries {
		if e.Role == role && !k.isLiveLocked(role, e.Container) {
			out = append(out, e.Container)
		}
	}
	return out
}

// Keep records container as warm until until.
func (k *warmKeeper) Keep(role contract.Role, container string, until time.Time, stopTimeout time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.entries = slices.DeleteFunc(k.entries, func(e warmEntry) bool { return e.Role == role && e.Container == container })
	k.entries = append(k.entries, warmEntry{Role: role, Container: container, Until: until.UTC(), StopTimeout: contract.Duration(stopTimeout)})
	err := k.saveLocked()
	k.poke()
	return err
}

// Drop forgets container.
func (k *warmKeeper) Drop(role contract.Role, container string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(k.entries)
	k.entries = slices.DeleteFunc(k.entries, func(e warmEntry) bool { return e.Role == role && e.Container == container })
	if len(k.entries) == n {
		return nil
	}
	return k.saveLocked()
}

func (k *warmKeeper) saveLocked() error {
	if err := writeJSONAtomic(k.path, k.entries); err != nil {
		return fmt.Errorf("save warm containers: %w", err)
	}
	return nil
}

func (k *warmKeeper) poke() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// run stops each warm container when its window ends, until ctx ends.
// Windows that ended while the sidecar was down end at once.
func (k *warmKeeper) run(ctx context.Context) {
	for {
		wait := k.expire(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-k.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// expire stops the containers whose window ended and returns how long
// until the next one ends (an hour when none is warm).
func (k *warmKeeper) expire(ctx context.Context) time.Duration {
	next := time.Hour
	for _, e := range k.snapshot() {
		left := e.Until.Sub(k.now())
		if left > 0 {
			next = min(next, left)
			continue
		}
		if !k.stopOne(ctx, e) {
			next = min(next, warmRetry)
		}
	}
	return next
}

func (k *warmKeeper) snapshot() []warmEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.entries)
}

// stopOne stops e's container with its role marked busy, unless it is the
// live one, and forgets it. It reports false when it should be tried again.
func (k *warmKeeper) stopOne(ctx context.Context, e warmEntry) bool {
	k.mu.Lock()
	stop, begin, live := k.stop, k.begin, k.live
	k.mu.Unlock()
	if stop == nil {
		return false
	}
	end, err := begin(e.Role, actionStopWarm)
	if err != nil {
		return false // a swap of the role is under way; it may use this container
	}
	defer end()
	if live(e.Role) != e.Container {
		sctx, cancel := context.WithTimeout(ctx, e.StopTimeout.D()+warmStopBound)
		err = stop(sctx, e.Container, e.StopTimeout.D())
		cancel()
		if err != nil && !docker.IsNotFound(err) {
			k.log.Warn("stop warm container", "role", e.Role.String(), "container", e.Container, "err", err)
			return false
		}
		k.log.Info("warm window ended; stopped", "role", e.Role.String(), "container", e.Container)
	}
	if err := k.Drop(e.Role, e.Container); err != nil {
		k.log.Error("forget warm container", "container", e.Container, "err", err)
	}
	return true
}

// stopRole stops every warm container of role now (app stop); the caller
// holds the role.
func (k *warmKeeper) stopRole(ctx context.Context, role contract.Role) error {
	var errs []error
	for _, e := range k.snapshot() {
		if e.Role != role {
			continue
		}
		if err := k.stop(ctx, e.Container, e.StopTimeout.D()); err != nil && !docker.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("stop warm %s: %w", e.Container, err))
			continue
		}
		errs = append(errs, k.Drop(role, e.Container))
	}
	return errors.Join(errs...)
}

package fleet

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recordingHooks records BeforeBoot/AfterBoot calls (interleaved with the
// deployer's calls through the shared log) and fails where told.
type recordingHooks struct {
	mu         sync.Mutex
	log        *[]string
	failBefore int // 1-based call number of BeforeBoot to fail; 0: never
	before     int
}

var errHook = errors.New("hook failed")

func (h *recordingHooks) BeforeBoot(_ context.Context, hosts []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.before++
	*h.log = append(*h.log, "pre-app-boot "+strings.Join(hosts, ","))
	if h.before == h.failBefore {
		return errHook
	}
	return nil
}

func (h *recordingHooks) AfterBoot(_ context.Context, hosts []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.log = append(*h.log, "post-app-boot "+strings.Join(hosts, ","))
	return nil
}

// The app-boot hooks run once per boot group, around it, with the group's
// hosts: one group for all hosts without boot.limit (primary included),
// one per batch with it; role-by-role stages of a batch share its hooks.
func TestBootHooksPerGroup(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts PlanOptions
		want []string
	}{
		{"no limit: one group", PlanOptions{Targets: []Target{w1, w2}, Primary: w1},
			[]string{"pre-app-boot h1,h2", "deploy h1/web", "deploy h2/web", "post-app-boot h1,h2"}},
		{"limit 1, parallel roles", PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true},
			[]string{"pre-app-boot h1,h2", "deploy h1/web", "deploy h2/web", "post-app-boot h1,h2",
				"pre-app-boot h3", "deploy h3/job", "post-app-boot h3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v2"}
			h := &recordingHooks{log: &f.calls}
			// The hooks append to the deployer's log under its lock.
			r := &Runner{Deployer: f, Hooks: lockedHooks{h, &f.mu}}
			if _, err := r.Deploy(context.Background(), NewPlan(tc.opts), "v2"); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.calls, tc.want) {
				t.Fatalf("calls\n%q\nwant\n%q", f.calls, tc.want)
			}
		})
	}
}

// A failing pre-app-boot stops the deploy before its group boots and
// rolls back the groups already switched; post-app-boot of that group never
// runs.
func TestBootHookFailureStopsAndRollsBack(t *testing.T) {
	f := &fakeDeployer{live: fleetOf(all, "v1"), version: "v2"}
	h := &recordingHooks{log: &f.calls, failBefore: 2}
	r := &Runner{Deployer: f, Hooks: lockedHooks{h, &f.mu}}
	_, err := r.Deploy(context.Background(), NewPlan(PlanOptions{Targets: all, Primary: w1, Limit: 1, ParallelRoles: true}), "v2")
	if !errors.Is(err, errHook) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if slices.Contains(f.calls, "deploy h3/job") || slices.Contains(f.calls, "post-app-boot h3") {
		t.Errorf("the group after the failed hook booted: %q", f.calls)
	}
	if f.live[w1] != "v1" || f.live[w2] != "v1" {
		t.Errorf("switched hosts not rolled back: %v", f.live)
	}
}

// lockedHooks serialises hook calls with the fake deployer's log.
type lockedHooks struct {
	h  *recordingHooks
	mu *sync.Mutex
}

func (l lockedHooks) BeforeBoot(ctx context.Context, hosts []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.h.BeforeBoot(ctx, hosts)
}

func (l lockedHooks) AfterBoot(ctx context.Context, hosts []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.h.AfterBoot(ctx, hosts)
}

package sidecar

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

type warmFixture struct {
	k       *warmKeeper
	table   *roleTable
	mu      sync.Mutex
	stopped []string
	now     time.Time
}

var warmTestRole = contract.Role{Service: "app", Role: "web"}

func newWarmFixture(t *testing.T, dir string) *warmFixture {
	t.Helper()
	k, err := newWarmKeeper(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f := &warmFixture{k: k, table: newRoleTable(NewJournal(dir)), now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	k.now = func() time.Time { return f.now }
	k.attach(func(ctx context.Context, name string, timeout time.Duration) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.stopped = append(f.stopped, name)
		return nil
	}, f.table.begin, func(r contract.Role) string { return f.table.get(r).LiveContainer })
	if _, err := f.table.update(warmTestRole, func(r *RoleRecord) { r.LiveContainer = "app-web-v2" }); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestWarmKeeperStopsWhenTheWindowEnds(t *testing.T) {
	f := newWarmFixture(t, t.TempDir())
	if err := f.k.Keep(warmTestRole, "app-web-v1", f.now.Add(3*time.Minute), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := f.k.Warm(warmTestRole); !slices.Equal(got, []string{"app-web-v1"}) {
		t.Fatalf("warm %v", got)
	}
	if next := f.k.expire(context.Background()); next != 3*time.Minute || len(f.stopped) != 0 {
		t.Fatalf("inside the window: next %v, stopped %v", next, f.stopped)
	}
	f.now = f.now.Add(3 * time.Minute)
	f.k.expire(context.Background())
	if !slices.Equal(f.stopped, []string{"app-web-v1"}) || len(f.k.Warm(warmTestRole)) != 0 {
		t.Errorf("after the window: stopped %v, warm %v", f.stopped, f.k.Warm(warmTestRole))
	}
}

func TestWarmKeeperSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	f := newWarmFixture(t, dir)
	if err := f.k.Keep(warmTestRole, "app-web-v1", f.now.Add(time.Minute), time.Second); err != nil {
		t.Fatal(err)
	}
	// A new sidecar process, started after the window ended.
	g := newWarmFixture(t, dir)
	g.now = f.now.Add(2 * time.Minute)
	if got := g.k.Warm(warmTestRole); !slices.Equal(got, []string{"app-web-v1"}) {
		t.Fatalf("reloaded warm set %v", got)
	}
	g.k.expire(context.Background())
	if !slices.Equal(g.stopped, []string{"app-web-v1"}) {
		t.Errorf("stopped %v", g.stopped)
	}
}

func TestWarmKeeperNeverStopsTheLiveContainerAndWaitsForASwap(t *testing.T) {
	f := newWarmFixture(t, t.TempDir())
	for _, c := range []string{"app-web-v2", "app-web-v1"} {
		if err := f.k.Keep(warmTestRole, c, f.now, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.k.Warm(warmTestRole); !slices.Equal(got, []string{"app-web-v1"}) {
		t.Errorf("warm %v: the live container is never warm", got)
	}
	end, err := f.table.begin(warmTestRole, actionDeploy)
	if err != nil {
		t.Fatal(err)
	}
	if next := f.k.expire(context.Background()); next != warmRetry || len(f.stopped) != 0 {
		t.Errorf("during a swap: next %v, stopped %v", next, f.stopped)
	}
	end()
	f.k.expire(context.Background())
	if !slices.Equal(f.stopped, []string{"app-web-v1"}) {
		t.Errorf("stopped %v, want v1 only", f.stopped)
	}
	if len(f.k.snapshot()) != 0 {
		t.Errorf("left %v", f.k.snapshot())
	}
}

// TestWarmKeeperLiveIsTheJournals: the engine keeps warm the container the
// journal says the proxy routed to (after a swap cut short after cutover
// left two running); the keeper reports it, and never as warm.
func TestWarmKeeperLiveIsTheJournals(t *testing.T) {
	f := newWarmFixture(t, t.TempDir())
	if got := f.k.Live(warmTestRole); got != "app-web-v2" {
		t.Errorf("live = %q, want app-web-v2 (the journal's)", got)
	}
	if err := f.k.Keep(warmTestRole, "app-web-v2", f.now.Add(time.Minute), time.Second); err != nil {
		t.Fatal(err)
	}
	if got := f.k.Warm(warmTestRole); len(got) != 0 {
		t.Errorf("warm = %v, want none: the live container is never warm", got)
	}
}

package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// swapAt is a deploy of v2 over v1 interrupted at step.
func swapAt(step string, cutover bool) *SwapRecord {
	return &SwapRecord{Action: actionDeploy, Version: "v2", Green: "app-web-v2", BlueVersion: "v1", Blue: "app-web-v1",
		Step: step, StepStatus: contract.EventStart, CutoverBegun: cutover, State: swapRunning, StartedAt: time.Now()}
}

// reconcileCase is a role's journal and host at a sidecar's start, and
// what reconcile must make of them.
type reconcileCase struct {
	name string
	rec  RoleRecord
	// containers: name -> running; unhealthy names; initial route.
	running   map[string]bool
	unhealthy []string
	refusing  map[string]int
	route     string

	wantOutcome string
	wantMissing bool // reconcile fails: the live container is gone
	wantLive    string
	wantRoute   string
	wantRunning []string
	wantStopped []string
	wantState   string
	wantResult  string
	// wantPrune is the retention call after a settled swap ("" for none).
	wantPrune string
}

var reconcileCases = []reconcileCase{
	{
		name:    "killed while green was starting: undo, blue keeps serving",
		rec:     RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: swapAt(swap.StepWaitHealthy, false)},
		running: map[string]bool{"app-web-v1": true, "app-web-v2": true}, route: "app-web-v1",
		wantPrune:   "prune web v1 kept=app-web-v2",
		wantOutcome: outcomeUndone, wantLive: "v1", wantRoute: "app-web-v1",
		wantRunning: []string{"app-web-v1"}, wantStopped: []string{"app-web-v2"}, wantState: swapUndone, wantResult: resultFailed,
	},
	{
		name:    "killed before cutover with green unhealthy: undo",
		rec:     RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: swapAt(swap.StepStartGreen, false)},
		running: map[string]bool{"app-web-v1": true, "app-web-v2": true}, unhealthy: []string{"app-web-v2"}, route: "app-web-v1",
		wantPrune:   "prune web v1 kept=app-web-v2",
		wantOutcome: outcomeUndone, wantLive: "v1", wantRoute: "app-web-v1",
		wantRunning: []string{"app-web-v1"}, wantStopped: []string{"app-web-v2"}, wantState: swapUndone, wantResult: resultFailed,
	},
	{
		name:    "killed during cutover with green healthy: finish",
		rec:     RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: swapAt(swap.StepCutover, true)},
		running: map[string]bool{"app-web-v1": true, "app-web-v2": true}, route: "app-web-v1",
		wantPrune:   "prune web v2 kept=",
		wantOutcome: outcomeFinished, wantLive: "v2", wantRoute: "app-web-v2",
		wantRunning: []string{"app-web-v2"}, wantStopped: []string{"app-web-v1"}, wantState: swapFinished, wantResult: resultOK,
	},
	{
		name:    "killed after blue stopped, green healthy: finish",
		rec:     RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: swapAt(swap.StepPrune, true)},
		running: map[string]bool{"app-web-v1": false, "app-web-v2": true}, route: "app-web-v2",
		wantPrune:   "prune web v2 kept=",
		wantOutcome: outcomeFinished, wantLive: "v2", wantRoute: "app-web-v2",
		wantRunning: []string{"app-web-v2"}, wantStopped: []string{"app-web-v1"}, wantState: swapFinished, wantResult: resultOK,
	},
	{
		name:    "killed after cutover, green died, blue stopped: blue restarted and routed",
		rec:     RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: swapAt(swap.StepStopBlue, true)},
		running: map[string]bool{"app-web-v1": false, "app-web-v2": true}, unhealthy: []string{"app-web-v2"}, route: "app-web-v2",
		wantPrune:   "prune web v1 kept=app-web-v2",
		wantOutcome: outcomeUndone, wantLive: "v1", wantRoute: "app-web-v1",
		wantRunning: []string{"app-web-v1"}, wantStopped: []string{"app-web-v2"}, wantState: swapUndone, wantResult: resultFailed,
	},
	{
		name: "first deploy interrupted: green stopped, nothing live",
		rec: RoleRecord{Swap: &SwapRecord{Action: actionDeploy, Version: "v1", Green: "app-web-v1", Step: swap.StepWaitHealthy,
			State: swapRunning}},
		running:     map[string]bool{"app-web-v1": true},
		wantPrune:   "prune web v1 kept=app-web-v1",
		wantOutcome: outcomeUndone, wantLive: "", wantStopped: []string{"app-web-v1"}, wantState: swapUndone, wantResult: resultFailed,
	},
	{
		name:        "idle, live container stopped by a host reboot: started and routed",
		rec:         RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: &SwapRecord{State: swapSucceeded}},
		running:     map[string]bool{"app-web-v1": false},
		wantOutcome: outcomeRestored, wantLive: "v1", wantRoute: "app-web-v1", wantRunning: []string{"app-web-v1"}, wantState: swapSucceeded,
	},
	{
		name:    "idle and serving: route rewritten, nothing else",
		rec:     RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: &SwapRecord{State: swapSucceeded}},
		running: map[string]bool{"app-web-v1": true}, route: "app-web-v1",
		wantOutcome: outcomeNoop, wantLive: "v1", wantRoute: "app-web-v1", wantRunning: []string{"app-web-v1"}, wantState: swapSucceeded,
	},
	{
		// The chaos soak's cycle 27: a 502 on a host whose dockerd had
		// restarted, from a route to a live container that ran but did
		// not listen yet.
		name:    "dockerd restarted, live container running but not listening yet: routed once it answers",
		rec:     RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: &SwapRecord{State: swapSucceeded}},
		running: map[string]bool{"app-web-v1": true}, refusing: map[string]int{"app-web-v1": 3}, route: "app-web-v1",
		wantOutcome: outcomeNoop, wantLive: "v1", wantRoute: "app-web-v1", wantRunning: []string{"app-web-v1"}, wantState: swapSucceeded,
	},
	{
		name:    "dockerd restarted mid-swap, blue running but not listening yet: undone, routed once blue answers",
		rec:     RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: swapAt(swap.StepWaitHealthy, false)},
		running: map[string]bool{"app-web-v1": true, "app-web-v2": true}, refusing: map[string]int{"app-web-v1": 3}, route: "app-web-v1",
		wantPrune:   "prune web v1 kept=app-web-v2",
		wantOutcome: outcomeUndone, wantLive: "v1", wantRoute: "app-web-v1",
		wantRunning: []string{"app-web-v1"}, wantStopped: []string{"app-web-v2"}, wantState: swapUndone, wantResult: resultFailed,
	},
	{
		// The chaos soak: dockerd restarted just after a failed swap had
		// stopped its green, and its restart policy started it again.
		name:    "idle, a stopped green started again by a dockerd restart: stopped",
		rec:     RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Swap: &SwapRecord{State: swapFailed}},
		running: map[string]bool{"app-web-v1": true, "app-web-v2": true}, route: "app-web-v1",
		wantOutcome: outcomeNoop, wantLive: "v1", wantRoute: "app-web-v1",
		wantRunning: []string{"app-web-v1"}, wantStopped: []string{"app-web-v2"}, wantState: swapFailed,
	},
	{
		name:        "stopped on purpose: left stopped",
		rec:         RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1", Stopped: true},
		running:     map[string]bool{"app-web-v1": false},
		wantOutcome: outcomeNoop, wantLive: "v1", wantStopped: []string{"app-web-v1"},
	},
	{
		name:        "live container removed by hand: failure reported",
		rec:         RoleRecord{LiveVersion: "v1", LiveContainer: "app-web-v1"},
		wantOutcome: outcomeFailed, wantMissing: true, wantLive: "v1",
	},
}

func TestReconcile(t *testing.T) {
	for _, tt := range reconcileCases {
		t.Run(tt.name, func(t *testing.T) { checkReconcile(t, tt) })
	}
}

// checkReconcile reconciles tt's role and checks the host and journal.
func checkReconcile(t *testing.T, tt reconcileCase) {
	t.Helper()
	h := newFakeHost()
	for name, running := range tt.running {
		h.set(name, running)
	}
	for _, name := range tt.unhealthy {
		h.unhealthy[name] = true
	}
	for name, n := range tt.refusing {
		h.refusing[name] = n
	}
	if tt.route != "" {
		h.routes[webRole.String()] = tt.route
	}
	dir := t.TempDir()
	rec := tt.rec
	rec.Role = webRole
	if rec.LiveVersion != "" {
		rec.LiveSpec = testSpec(rec.LiveVersion).Redacted()
	}
	if rec.Swap != nil && rec.Swap.State == swapRunning {
		rec.PendingSpec = testSpec(rec.Swap.Version).Redacted()
	}
	if err := NewJournal(dir).Save(&rec); err != nil {
		t.Fatal(err)
	}
	s := NewServer(context.Background(), ServerConfig{StateDir: dir, Version: "test", Logger: slog.New(slog.DiscardHandler)}, h.deps())

	outcome, err := s.reconcileRole(context.Background(), s.table.get(webRole))
	if outcome != tt.wantOutcome {
		t.Errorf("outcome = %s, want %s (err %v)", outcome, tt.wantOutcome, err)
	}
	if (err != nil) != tt.wantMissing || (err != nil && !isMissing(err)) {
		t.Errorf("err = %v, want a missing container: %v", err, tt.wantMissing)
	}
	// What is on disk is what a further restart would see.
	got, jerr := NewJournal(dir).Load(webRole)
	if jerr != nil {
		t.Fatal(jerr)
	}
	if got.LiveVersion != tt.wantLive {
		t.Errorf("live = %q, want %q", got.LiveVersion, tt.wantLive)
	}
	if r := h.route(webRole); r != tt.wantRoute {
		t.Errorf("route = %q, want %q", r, tt.wantRoute)
	}
	for _, name := range tt.wantRunning {
		if !h.running(name) {
			t.Errorf("%s not running", name)
		}
	}
	for _, name := range tt.wantStopped {
		if h.running(name) {
			t.Errorf("%s still running", name)
		}
	}
	if tt.wantState != "" && (got.Swap == nil || got.Swap.State != tt.wantState) {
		t.Errorf("swap state = %+v, want %s", got.Swap, tt.wantState)
	}
	if got.LastResult != tt.wantResult {
		t.Errorf("last result = %q, want %q", got.LastResult, tt.wantResult)
	}
	if got.PendingSpec != nil {
		t.Errorf("pending spec left behind")
	}
	if tt.wantRoute != "" && !slices.Contains(h.Calls(), "route "+tt.wantRoute) {
		t.Errorf("route %s never confirmed; calls %v", tt.wantRoute, h.Calls())
	}
	for _, c := range h.Calls() {
		if strings.HasSuffix(c, "(not answering)") {
			t.Errorf("%s: Traefik routed to a container that refuses connections; calls %v", c, h.Calls())
		}
	}
	checkReconcileDrain(t, tt, h.Calls())
	checkReconcilePrune(t, tt, h.Calls())
}

// checkReconcilePrune: a settled swap's retention runs (its own prune step
// never did), once and last, with the live spec and the undone green kept;
// a role without an interrupted swap is not pruned.
func checkReconcilePrune(t *testing.T, tt reconcileCase, calls []string) {
	t.Helper()
	var prunes []string
	for _, c := range calls {
		if strings.HasPrefix(c, "prune ") {
			prunes = append(prunes, c)
		}
	}
	if tt.wantPrune == "" {
		if len(prunes) > 0 {
			t.Errorf("pruned %v, want no prune; calls %v", prunes, calls)
		}
		return
	}
	if !slices.Equal(prunes, []string{tt.wantPrune}) || calls[len(calls)-1] != tt.wantPrune {
		t.Errorf("prunes %v, want one %q after everything else; calls %v", prunes, tt.wantPrune, calls)
	}
}

// checkReconcileDrain: a finished swap whose blue still ran drained blue
// (after routing green) before stopping it, as a swap's drain-blue does.
func checkReconcileDrain(t *testing.T, tt reconcileCase, calls []string) {
	t.Helper()
	blue := tt.rec.LiveContainer
	if tt.wantOutcome != outcomeFinished || !tt.running[blue] {
		if slices.Contains(calls, "drain "+blue) {
			t.Errorf("drained %s, which did not serve; calls %v", blue, calls)
		}
		return
	}
	route := slices.Index(calls, "route "+tt.wantRoute)
	drain := slices.Index(calls, "drain "+blue)
	stop := slices.Index(calls, "stop "+blue)
	if route < 0 || drain < route || stop < drain {
		t.Errorf("want route %s, drain %s, stop %s in that order; calls %v", tt.wantRoute, blue, blue, calls)
	}
}

func TestReconcileAllAudits(t *testing.T) {
	h := newFakeHost()
	h.set("app-web-v1", false)
	dir := t.TempDir()
	rec := RoleRecord{Role: webRole, LiveVersion: "v1", LiveContainer: "app-web-v1", LiveSpec: testSpec("v1").Redacted()}
	if err := NewJournal(dir).Save(&rec); err != nil {
		t.Fatal(err)
	}
	s := NewServer(context.Background(), ServerConfig{StateDir: dir, Version: "test", Logger: slog.New(slog.DiscardHandler)}, h.deps())
	if err := s.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	entries, _ := s.audit.Tail(0)
	if len(entries) != 1 || entries[0].Action != actionReconcile || entries[0].Result != outcomeRestored {
		t.Errorf("audit = %+v", entries)
	}
	st := s.Status(context.Background())
	if len(st.Roles) != 1 || st.Roles[0].Health != contract.HealthHealthy || st.Roles[0].LiveVersion != "v1" {
		t.Errorf("status = %+v", st)
	}
}

func TestReconcileRetriesUntilTraefikAnswers(t *testing.T) {
	h := newFakeHost()
	h.set("app-web-v1", true)
	h.failRoute = errors.New("confirm: traefik not answering")
	dir := t.TempDir()
	rec := RoleRecord{Role: webRole, LiveVersion: "v1", LiveContainer: "app-web-v1", LiveSpec: testSpec("v1").Redacted()}
	if err := NewJournal(dir).Save(&rec); err != nil {
		t.Fatal(err)
	}
	s := NewServer(context.Background(), ServerConfig{StateDir: dir, Version: "test", Logger: slog.New(slog.DiscardHandler)}, h.deps())
	attempts := 0
	h.onRoute = func() {
		attempts++
		if attempts == 2 {
			h.failRoute = nil // Traefik came up
		}
	}
	s.reconcileWithRetries(context.Background(), 3, time.Millisecond)
	if attempts != 2 || h.route(webRole) != "app-web-v1" || !s.ready.Load() {
		t.Errorf("attempts %d, route %q, ready %v", attempts, h.route(webRole), s.ready.Load())
	}
}

// A sidecar stopped (SIGTERM) mid-swap leaves the journal "running"; the
// next one finishes the swap because cutover had begun and green is healthy.
func TestShutdownMidSwapThenReconcile(t *testing.T) {
	h := newFakeHost()
	h.set("app-web-v1", true)
	h.routes[webRole.String()] = "app-web-v1"
	dir := t.TempDir()
	rec := RoleRecord{Role: webRole, LiveVersion: "v1", LiveContainer: "app-web-v1", LiveSpec: testSpec("v1").Redacted()}
	if err := NewJournal(dir).Save(&rec); err != nil {
		t.Fatal(err)
	}
	base, stop := context.WithCancel(context.Background())
	defer stop()
	s := NewServer(base, ServerConfig{StateDir: dir, Version: "test", Logger: slog.New(slog.DiscardHandler)}, h.deps())
	s.markReady()
	h.deploy = func(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error) {
		emit(contract.Event{Step: swap.StepStartGreen, Status: contract.EventStart})
		h.set(d.ContainerName(), true)
		emit(contract.Event{Step: swap.StepCutover, Status: contract.EventStart})
		stop() // SIGTERM arrives
		return nil, fmt.Errorf("swap step cutover: %w", context.Canceled)
	}
	c := serveUnix(t, s.APIHandler())
	if _, err := c.Apply(context.Background(), testSpec("v2"), nil); !errors.Is(err, contract.ErrStreamTruncated) {
		t.Fatalf("apply during shutdown: want a truncated stream, got %v", err)
	}
	got, _ := NewJournal(dir).Load(webRole)
	if got.Swap.State != swapRunning || !got.Swap.CutoverBegun || got.LiveVersion != "v1" {
		t.Fatalf("journal after shutdown = %+v %+v", got, got.Swap)
	}

	s2 := NewServer(context.Background(), ServerConfig{StateDir: dir, Version: "test", Logger: slog.New(slog.DiscardHandler)}, h.deps())
	if err := s2.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ = NewJournal(dir).Load(webRole)
	if got.LiveVersion != "v2" || got.Swap.State != swapFinished || h.route(webRole) != "app-web-v2" || h.running("app-web-v1") {
		t.Errorf("after reconcile: journal %+v, route %s, blue running %v", got, h.route(webRole), h.running("app-web-v1"))
	}
}

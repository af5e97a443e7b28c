package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

func TestApplyStreamsJournalsAndAudits(t *testing.T) {
	h := newFakeHost()
	s, dir := testServer(t, h)
	c := serveUnix(t, s.APIHandler())
	ctx := context.Background()

	var steps []string
	res, err := c.Apply(ctx, testSpec("v1"), func(e contract.Event) { steps = append(steps, e.Step+":"+e.Status) })
	if err != nil {
		t.Fatalf("apply v1: %v", err)
	}
	if res.Version != "v1" || res.Container != "app-web-v1" || res.PreviousVersion != "" {
		t.Errorf("v1 result = %+v", res)
	}
	if len(steps) != 12 || steps[0] != swap.StepStartGreen+":start" || steps[11] != swap.StepPrune+":done" {
		t.Errorf("events = %v", steps)
	}
	res, err = c.Apply(ctx, testSpec("v2"), nil)
	if err != nil {
		t.Fatalf("apply v2: %v", err)
	}
	if res.PreviousVersion != "v1" || h.route(webRole) != "app-web-v2" {
		t.Errorf("v2 result = %+v, route %s", res, h.route(webRole))
	}

	// The journal says v2 is live, with no secret value in it.
	data, err := os.ReadFile(filepath.Join(dir, journalDir, "app.web.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "hunter2") {
		t.Errorf("journal holds a secret value:\n%s", data)
	}
	rec, err := NewJournal(dir).Load(webRole)
	if err != nil || rec.LiveVersion != "v2" || rec.Swap.State != swapSucceeded || rec.Swap.Blue != "app-web-v1" || rec.LiveSpec == nil {
		t.Fatalf("journal = %+v, %v", rec, err)
	}

	log, err := c.Audit(ctx, 10)
	if err != nil || len(log.Entries) != 2 || log.Entries[1].Action != "deploy" || log.Entries[1].Result != "ok" ||
		log.Entries[1].Details["previous"] != "v1" {
		t.Fatalf("audit = %+v, %v", log, err)
	}
	auditData, _ := os.ReadFile(filepath.Join(dir, auditFile))
	if strings.Contains(string(auditData), "hunter2") {
		t.Errorf("audit log holds a secret value")
	}

	m := s.Metrics()
	if got := testutil.ToFloat64(m.deploys.WithLabelValues("ok")); got != 2 {
		t.Errorf("deploys ok = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.liveVersion.WithLabelValues("app", "", "web", "v2")); got != 1 {
		t.Errorf("live v2 = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.liveVersion); n != 1 {
		t.Errorf("live version series = %d, want 1", n)
	}

	st, err := c.Status(ctx)
	if err != nil || len(st.Roles) != 1 || st.Roles[0].LiveVersion != "v2" || st.Roles[0].Health != contract.HealthHealthy ||
		st.Roles[0].LastResult != "ok" || st.Roles[0].LastDeployAt.IsZero() {
		t.Fatalf("status = %+v, %v", st, err)
	}

	checkVersionsAndRollback(t, s, c, h, dir)
}

// checkVersionsAndRollback lists v1 and v2 (v2 live), rolls back to v1 and
// fails to roll back to a version the host does not have.
func checkVersionsAndRollback(t *testing.T, s *Server, c *sidecarclient.Client, h *fakeHost, dir string) {
	t.Helper()
	ctx := context.Background()
	vs, err := c.Versions(ctx, webRole)
	if err != nil || len(vs.Versions) != 2 || !vs.Versions[0].Live || vs.Versions[1].Live {
		t.Fatalf("versions = %+v, %v", vs, err)
	}

	// Rollback to v1 (retained, stopped).
	res, err := c.Rollback(ctx, contract.RollbackRequest{Role: webRole, Version: "v1", Who: "alice"}, nil)
	if err != nil || res.Version != "v1" || h.route(webRole) != "app-web-v1" {
		t.Fatalf("rollback = %+v, %v (route %s)", res, err, h.route(webRole))
	}
	if got := testutil.ToFloat64(s.Metrics().rollbacks.WithLabelValues("ok")); got != 1 {
		t.Errorf("rollbacks ok = %v, want 1", got)
	}
	_, err = c.Rollback(ctx, contract.RollbackRequest{Role: webRole, Version: "v9"}, nil)
	if !errors.Is(err, contract.ErrNotFound) {
		t.Errorf("rollback to missing version: want ErrNotFound, got %v", err)
	}
	// Refused before it began: the journal still records the rollback to v1.
	if rec, err := NewJournal(dir).Load(webRole); err != nil || rec.LiveVersion != "v1" || rec.LastResult != "ok" || rec.LastVersion != "v1" {
		t.Errorf("after refused rollback journal = %+v, %v", rec, err)
	}
}

func TestApplyFailureKeepsBlue(t *testing.T) {
	h := newFakeHost()
	s, dir := testServer(t, h)
	c := serveUnix(t, s.APIHandler())
	ctx := context.Background()
	if _, err := c.Apply(ctx, testSpec("v1"), nil); err != nil {
		t.Fatal(err)
	}
	h.deploy = func(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error) {
		emit(contract.Event{Step: swap.StepStartGreen, Status: contract.EventStart})
		h.set(d.ContainerName(), true)
		emit(contract.Event{Step: swap.StepStartGreen, Status: contract.EventDone})
		emit(contract.Event{Step: swap.StepWaitHealthy, Status: contract.EventStart})
		emit(contract.Event{Step: swap.StepWaitHealthy, Status: contract.EventFail})
		_ = h.Stop(ctx, d.ContainerName(), 0)
		return nil, &swap.StepError{Step: swap.StepWaitHealthy, Container: d.ContainerName(), Logs: "boom: database is down\n",
			Err: errors.New("app-web-v3 never became healthy: GET /up: 500")}
	}
	_, err := c.Apply(ctx, testSpec("v3"), nil)
	var e *contract.Error
	if !errors.As(err, &e) || e.Code != contract.CodeDeployFailed || e.Step != swap.StepWaitHealthy || len(e.Logs) != 1 {
		t.Fatalf("want deploy_failed at wait_healthy with logs, got %#v", err)
	}
	if !strings.Contains(err.Error(), "database is down") {
		t.Errorf("error text lacks green's logs: %v", err)
	}
	rec, _ := NewJournal(dir).Load(webRole)
	if rec.LiveVersion != "v1" || rec.Swap.State != swapFailed || rec.LastResult != "failed" || h.route(webRole) != "app-web-v1" {
		t.Errorf("after failure: journal %+v, route %s", rec, h.route(webRole))
	}
	if !strings.Contains(rec.LastError, "never became healthy") || strings.Contains(rec.LastError, "database is down") {
		t.Errorf("journaled error should be the message without the logs: %q", rec.LastError)
	}
	if got := testutil.ToFloat64(s.Metrics().healthFailures.WithLabelValues("app", "", "web")); got != 1 {
		t.Errorf("health failures = %v, want 1", got)
	}
	if got := testutil.ToFloat64(s.Metrics().deploys.WithLabelValues("failed")); got != 1 {
		t.Errorf("deploys failed = %v, want 1", got)
	}
}

func TestApplyConflict(t *testing.T) {
	h := newFakeHost()
	s, _ := testServer(t, h)
	c := serveUnix(t, s.APIHandler())
	entered, release := make(chan struct{}), make(chan struct{})
	h.deploy = func(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error) {
		close(entered)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return h.swap(ctx, d, emit)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Apply(context.Background(), testSpec("v1"), nil)
		done <- err
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("first apply did not start")
	}
	_, err := c.Apply(context.Background(), testSpec("v2"), nil)
	if !errors.Is(err, contract.ErrConflict) {
		t.Errorf("concurrent apply: want ErrConflict, got %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first apply: %v", err)
	}
}

func TestLockAndImageLoadThroughClient(t *testing.T) {
	h := newFakeHost()
	id := "sha256:" + strings.Repeat("ab", 32)
	h.images = []string{id}
	h.loadOut = "Loaded image: app:v1\n"
	s, dir := testServer(t, h)
	c := serveUnix(t, s.APIHandler())
	ctx := context.Background()

	if _, err := c.AcquireLock(ctx, contract.LockRequest{Holder: "alice", Message: "deploying"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.AcquireLock(ctx, contract.LockRequest{Holder: "bob"})
	var e *contract.Error
	if !errors.Is(err, contract.ErrLockHeld) || !errors.As(err, &e) || e.Lock == nil || e.Lock.Holder != "alice" || e.Status != 409 {
		t.Fatalf("want ErrLockHeld by alice, got %#v", err)
	}
	if _, err := c.ReleaseLock(ctx, contract.LockRequest{Holder: "alice"}); err != nil {
		t.Fatal(err)
	}
	log, _ := NewAudit(dir, nil).Tail(0)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "lock,lock-refused,unlock" {
		t.Errorf("audited lock actions = %v", actions)
	}

	lr, err := c.LoadImage(ctx, strings.NewReader("tar bytes"), id)
	if err != nil || !lr.Verified || len(lr.Loaded) != 1 || lr.Loaded[0] != "app:v1" || string(h.loaded) != "tar bytes" {
		t.Fatalf("load = %+v, %v", lr, err)
	}
	_, err = c.LoadImage(ctx, strings.NewReader("tar"), "sha256:"+strings.Repeat("cd", 32))
	if !errors.Is(err, contract.ErrImageID) {
		t.Errorf("load of another image: want ErrImageID, got %v", err)
	}
	h.loadErr = fmt.Errorf("load image: open /var/lib/docker/tmp/x/layer.tar: %w", docker.ErrLayerMissing)
	_, err = c.LoadImage(ctx, strings.NewReader("tar"), "")
	if !errors.Is(err, contract.ErrLayerMissing) {
		t.Errorf("partial archive missing a layer: want ErrLayerMissing, got %v", err)
	}
}

func TestStopStartRole(t *testing.T) {
	h := newFakeHost()
	s, _ := testServer(t, h)
	c := serveUnix(t, s.APIHandler())
	ctx := context.Background()
	if _, err := c.StopRole(ctx, contract.RoleRequest{Role: webRole}); !errors.Is(err, contract.ErrNotFound) {
		t.Errorf("stop of unknown role: want ErrNotFound, got %v", err)
	}
	if _, err := c.Apply(ctx, testSpec("v1"), nil); err != nil {
		t.Fatal(err)
	}
	r, err := c.StopRole(ctx, contract.RoleRequest{Role: webRole, Who: "alice"})
	if err != nil || r.Running || h.running("app-web-v1") {
		t.Fatalf("stop = %+v, %v", r, err)
	}
	st, _ := c.Status(ctx)
	if st.Roles[0].Health != contract.HealthStopped {
		t.Errorf("health after stop = %s", st.Roles[0].Health)
	}
	r, err = c.StartRole(ctx, contract.RoleRequest{Role: webRole})
	if err != nil || !r.Running || !h.running("app-web-v1") || h.route(webRole) != "app-web-v1" {
		t.Fatalf("start = %+v, %v", r, err)
	}
}

func TestSwapsWaitForStartupReconcile(t *testing.T) {
	h := newFakeHost()
	dir := t.TempDir()
	s := NewServer(context.Background(), ServerConfig{StateDir: dir, Version: "test", Logger: slog.New(slog.DiscardHandler)}, h.deps())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.waitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waitReady before reconcile: want it held until the deadline, got %v", err)
	}
	h.deploy = func(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error) {
		if !s.ready.Load() {
			t.Errorf("swap ran before the start-up reconcile finished")
		}
		return h.swap(ctx, d, emit)
	}
	c := serveUnix(t, s.APIHandler())
	done := make(chan error, 1)
	go func() {
		_, err := c.Apply(context.Background(), testSpec("v1"), nil)
		done <- err
	}()
	if err := s.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("apply held until reconcile: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("apply still held after reconcile")
	}
}

func TestEveryStepJournaledBeforeItsEvent(t *testing.T) {
	h := newFakeHost()
	s, dir := testServer(t, h)
	c := serveUnix(t, s.APIHandler())
	var checked int
	h.deploy = func(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error) {
		// emit journals, then streams: once it returns, the disk knows.
		return h.swap(ctx, d, func(e contract.Event) {
			emit(e)
			rec, err := NewJournal(dir).Load(webRole)
			if err != nil || rec == nil || rec.Swap == nil || rec.Swap.Step != e.Step || rec.Swap.StepStatus != e.Status ||
				rec.Swap.State != swapRunning || rec.Swap.Green != "app-web-v1" {
				t.Errorf("after event %s:%s the journal says %+v (%v)", e.Step, e.Status, rec, err)
				return
			}
			if cut := e.Step == swap.StepCutover || e.Step == swap.StepDrainBlue || e.Step == swap.StepStopBlue || e.Step == swap.StepPrune; rec.Swap.CutoverBegun != cut {
				t.Errorf("after %s:%s CutoverBegun = %v", e.Step, e.Status, rec.Swap.CutoverBegun)
			}
			checked++
		})
	}
	if _, err := c.Apply(context.Background(), testSpec("v1"), nil); err != nil {
		t.Fatal(err)
	}
	if checked != 12 {
		t.Errorf("checked %d events, want 12", checked)
	}
}

// A swap cancelled during its cutover, whose route call (as the engine's)
// completes whatever the cancel, leaves Traefik on green: the journal says
// green is live, and GET versions?settled, asked while the swap still
// winds down, answers once it has, with green's version (the plugin's undo
// of a cancelled rollback counts the host as switched). Without settled
// the answer is the journal's at once.
func TestCancelDuringCutoverLeavesGreenLive(t *testing.T) {
	h := newFakeHost()
	s, dir := testServer(t, h)
	c := serveUnix(t, s.APIHandler())
	ctx := context.Background()
	if _, err := c.Apply(ctx, testSpec("v1"), nil); err != nil {
		t.Fatal(err)
	}
	inCutover, windDown := make(chan struct{}), make(chan struct{})
	h.deploy = func(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*swap.Result, error) {
		green := d.ContainerName()
		h.set(green, true)
		for _, st := range []string{swap.StepStartGreen, swap.StepWaitHealthy} {
			emit(contract.Event{Step: st, Status: contract.EventStart})
			emit(contract.Event{Step: st, Status: contract.EventDone})
		}
		emit(contract.Event{Step: swap.StepCutover, Status: contract.EventStart})
		if err := h.Route(context.WithoutCancel(ctx), d, []swap.Server{{Container: green}}); err != nil {
			return nil, err
		}
		close(inCutover)
		<-ctx.Done() // confirming when the client goes
		<-windDown
		return nil, fmt.Errorf("confirm cutover: %w", ctx.Err())
	}
	actx, cancel := context.WithCancel(ctx)
	applied := make(chan error, 1)
	go func() { _, err := c.Apply(actx, testSpec("v2"), nil); applied <- err }()
	<-inCutover
	cancel()
	if err := <-applied; !errors.Is(err, context.Canceled) {
		t.Fatalf("apply = %v, want context.Canceled", err)
	}
	if vs, err := c.Versions(ctx, webRole); err != nil || liveOf(vs) != "v1" {
		t.Errorf("versions while the swap winds down: %+v, %v; want v1 live (the journal's, at once)", vs, err)
	}
	settled := make(chan *contract.VersionsResponse, 1)
	go func() {
		vs, err := c.SettledVersions(ctx, webRole)
		if err != nil {
			t.Errorf("settled versions: %v", err)
		}
		settled <- vs
	}()
	waitUntil(t, 5*time.Second, func() bool { return s.table.waiters() == 1 })
	close(windDown)
	if vs := <-settled; liveOf(vs) != "v2" {
		t.Errorf("settled versions: %+v, want v2 live (Traefik routes to it)", vs)
	}
	rec, _ := NewJournal(dir).Load(webRole)
	if rec.LiveVersion != "v2" || h.route(webRole) != "app-web-v2" {
		t.Errorf("journal live %s, route %s; want v2 on both", rec.LiveVersion, h.route(webRole))
	}
}

func liveOf(vs *contract.VersionsResponse) string {
	if vs == nil {
		return ""
	}
	for _, v := range vs.Versions {
		if v.Live {
			return v.Version
		}
	}
	return ""
}

// waitUntil polls cond until it holds, failing the test after d.
func waitUntil(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(time.Millisecond)
	}
}

package chaos

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

func TestPlanIsSeeded(t *testing.T) {
	a, err := Plan(42, 50, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Plan(42, 50, 3, nil)
	c, _ := Plan(43, 50, 3, nil)
	if !slices.Equal(a, b) {
		t.Error("the same seed drew different cycles")
	}
	if slices.Equal(a, c) {
		t.Error("seeds 42 and 43 drew the same cycles")
	}
	faults, ops := map[Fault]bool{}, map[Op]bool{}
	for _, cy := range a {
		faults[cy.Fault], ops[cy.Op] = true, true
		if cy.Host < 0 || cy.Host > 2 || cy.At < 0 || cy.At >= 1 {
			t.Errorf("cycle out of range: %+v", cy)
		}
	}
	if len(ops) != len(Ops) || len(faults) < len(Faults)-1 {
		t.Errorf("50 cycles drew ops %v and faults %v: not the matrix", ops, faults)
	}
	only, err := ParseFaults("partition,ctrl-c")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := Plan(42, 20, 3, only)
	for _, cy := range d {
		if cy.Fault != FaultPartition && cy.Fault != FaultInterrupt {
			t.Errorf("-faults partition,ctrl-c drew %s", cy.Fault)
		}
	}
	if _, err := ParseFaults("meteor"); err == nil {
		t.Error("an unknown fault was accepted")
	}
	if _, err := Plan(1, 0, 3, nil); err == nil {
		t.Error("0 cycles accepted")
	}
}

// TestCountLeavesOutTheFaultWindow: a request in flight at any moment of
// the window does not count; one before or after it does, failed or not.
func TestCountLeavesOutTheFaultWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	ok := func(s, lat float64) loadgen.Result {
		return loadgen.Result{Start: at(s), Latency: time.Duration(lat * float64(time.Second)), Status: 200}
	}
	bad := func(s, lat float64) loadgen.Result {
		r := ok(s, lat)
		r.Status, r.Err = 0, "connection refused"
		return r
	}
	results := []loadgen.Result{
		ok(1, 0.1),  // before
		bad(2, 0.1), // before, failed: counts
		bad(4.5, 1), // in flight when the window opens (5)
		bad(6, 0.1), // inside
		ok(7, 0.1),  // inside: the host answered before it was healed
		ok(9, 0.1),  // first after the heal at 8.5: its end (9.1) closes the window
		// Sent while the host came up, answered after the first: queued in
		// its backlog, so part of the outage.
		bad(9.05, 0.2),
		bad(9.5, 0.1),
	}
	end := WindowEnd(results, at(8.5))
	if !end.Equal(at(9.1)) {
		t.Fatalf("window end %v, want 9.1 s", end.Sub(t0))
	}
	got := Count(results, &Window{From: at(5), To: end})
	if got.Requests != 8 || got.Excluded != 5 || got.Failed != 2 || len(got.FirstErrors) != 1 {
		t.Errorf("tally %+v, want 8 requests, 5 excluded, 2 failed (one reason)", got)
	}
	if all := Count(results, nil); all.Failed != 5 || all.Excluded != 0 {
		t.Errorf("tally without a window %+v, want 5 failed", all)
	}
	if open := Count(results, &Window{From: at(5)}); open.Excluded != 6 || open.Failed != 1 {
		t.Errorf("open window %+v, want 6 excluded, 1 failed", open)
	}
	if !WindowEnd(results, at(20)).IsZero() {
		t.Error("a window end after the last request")
	}
}

func TestSummaryText(t *testing.T) {
	runs := []*CycleRun{
		{Cycle: Cycle{N: 1, Op: OpDeploy, Fault: FaultPartition}, Ran: OpDeploy, Landed: true, Detect: 4.2,
			Tally: map[string]Tally{"host1": {Requests: 100, Excluded: 10}}, Exit: 1, Total: 20},
		{Cycle: Cycle{N: 2, Op: OpRollback, Fault: FaultNone}, Ran: OpDeploy, Exit: 0, LockHeld: true,
			Tally: map[string]Tally{"host1": {Requests: 50, Failed: 2}}, Violations: []string{"2 failed requests on host1 (up)"}, Total: 10},
	}
	res := &Results{Seed: 7, Cycles: 2, Replay: "go run ./e2e/cmd/chaos -seed 7 -cycles 2", Summary: summarize(runs)}
	s := res.Summary
	if s.Requests != 150 || s.Failed != 2 || s.Excluded != 10 || s.Faults["partition"] != 1 || s.Ops["deploy"] != 2 ||
		s.CommandsOK != 1 || s.LockReleases != 1 || !slices.Equal(s.PartitionDetect, []float64{4.2}) || len(s.Violations) != 1 {
		t.Errorf("summary %+v", s)
	}
	text := res.Text()
	for _, want := range []string{"Seed 7", "-seed 7 -cycles 2", "none 1, partition 1", "150, of which 2 failed", "median 4.2 s", "cycle 2 (deploy, none): 2 failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}

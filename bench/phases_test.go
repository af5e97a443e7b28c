package bench

import (
	"reflect"
	"testing"
	"time"
)

func TestPhases(t *testing.T) {
	at := func(ms int, text string) Line { return Line{At: time.Duration(ms) * time.Millisecond, Text: text} }
	tests := []struct {
		name       string
		run        Invocation
		wantPhases []Phase
		wantSwaps  []Phase
	}{
		{
			name: "full deploy",
			run: Invocation{Took: 10 * time.Second, Lines: []Line{
				at(100, "Deploying bench e1 to 10.0.0.11, 10.0.0.12"),
				at(300, "  [10.0.0.11] ship kamal-sidecar:0.1: already present (100ms)"),
				at(500, "  lock: acquired (300ms)"),
				at(600, "Build e1"),
				at(4500, "  build kamal-e2e-app:e1: done (3.9s)"),
				at(4600, "Ship kamal-e2e-app:e1"),
				at(6400, "  [10.0.0.11] ship kamal-e2e-app:e1: 4.2 MiB in 1 of 3 layers (1.8s)"),
				at(6500, "  ship: done (1.9s)"),
				at(6600, "Migrate on the primary host"),
				at(7500, "  migrations: done (900ms)"),
				at(7600, "Swap to e1"),
				at(8500, "  [10.0.0.11] deploy web: done (900ms)"),
				at(9500, "  [10.0.0.12] deploy web: done (1.9s)"),
				at(9700, "  lock: released"),
			}},
			wantPhases: []Phase{
				{"start, connect, lock", 0.5},
				{"build (pre-build hook + docker build)", 4.0},
				{"ship", 2.0},
				{"migrate", 1.0},
				{"swap (all hosts)", 2.0},
				{"unlock", 0.2},
				{"audit, exit", 0.3},
			},
			wantSwaps: []Phase{{"ship to 10.0.0.11 (4.2 MiB in 1 of 3 layers)", 1.8}, {"swap web on 10.0.0.11", 0.9}, {"swap web on 10.0.0.12", 1.9}},
		},
		{
			name: "skip-push without migrations",
			run: Invocation{Took: 3 * time.Second, Lines: []Line{
				at(200, "  lock: acquired (100ms)"),
				at(1200, "  ship: done (1s)"),
				at(2200, "  [h1] deploy web: done (1s)"),
				at(2500, "  lock: released"),
			}},
			wantPhases: []Phase{
				{"start, connect, lock", 0.2},
				{"ship", 1.0},
				{"swap (all hosts)", 1.0},
				{"unlock", 0.3},
				{"audit, exit", 0.5},
			},
			wantSwaps: []Phase{{"swap web on h1", 1.0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phases, swaps := Phases(&tt.run)
			round := func(ps []Phase) []Phase {
				for i := range ps {
					ps[i].Seconds = float64(time.Duration(ps[i].Seconds*1e9).Round(time.Millisecond)) / 1e9
				}
				return ps
			}
			if got := round(phases); !reflect.DeepEqual(got, tt.wantPhases) {
				t.Errorf("phases:\n got %v\nwant %v", got, tt.wantPhases)
			}
			if got := round(swaps); !reflect.DeepEqual(got, tt.wantSwaps) {
				t.Errorf("swaps:\n got %v\nwant %v", got, tt.wantSwaps)
			}
		})
	}
}

func TestServingAt(t *testing.T) {
	at := func(ms int, text string) Line { return Line{At: time.Duration(ms) * time.Millisecond, Text: text} }
	rollback := []Line{
		at(400, "Rolling back bench to z5 on h1, h3"),
		at(430, "    [h1] web start-retained: start "),
		at(430, "    [h3] job start-retained: start "),
		at(1140, "    [h1] web wait-healthy: done (25ms) "),
		at(1260, "    [h1] web cutover: done (64ms) "),
		at(2150, "    [h3] job wait-healthy: done (1.03s) "),
		at(7350, "    [h1] web stop-blue: done (6.013s) "),
	}
	tests := []struct {
		name   string
		lines  []Line
		want   time.Duration
		wantOK bool
	}{
		{"web cutover and job healthy", rollback, 2150 * time.Millisecond, true},
		{"web only", []Line{rollback[0], rollback[1], rollback[3], rollback[4]}, 1260 * time.Millisecond, true},
		{"job never healthy", rollback[:5], 0, false},
		{"nothing started", rollback[:1], 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ServingAt(&Invocation{Lines: tt.lines})
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ServingAt = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
	// The web host served at its cutover, before the job was healthy.
	if got, ok := RoutedAt(&Invocation{Lines: rollback}); got != 1260*time.Millisecond || !ok {
		t.Errorf("RoutedAt = %v, %v; want 1.26s, true", got, ok)
	}
	jobOnly := []Line{rollback[0], rollback[2], rollback[5]}
	if _, ok := RoutedAt(&Invocation{Lines: jobOnly}); ok {
		t.Error("RoutedAt of a job role alone: want not ok (nothing routed)")
	}
}

func TestLogRoundTrip(t *testing.T) {
	in := &Invocation{
		Args:  []string{"kamal", "-v", "rollback", "z5"},
		Start: time.Date(2026, 11, 25, 20, 58, 26, 121692482, time.UTC),
		Took:  7425990070 * time.Nanosecond,
		Lines: []Line{{At: 403 * time.Millisecond, Text: "Rolling back bench to z5"}, {At: 2150 * time.Millisecond, Text: "    [h3] job wait-healthy: done (1.03s) "}},
	}
	out, err := ReadLog(FormatLog(in))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("ReadLog(FormatLog(x)) =\n%+v\nwant\n%+v", out, in)
	}
	if _, err := ReadLog("$ docker kamal\n# started nonsense\n"); err == nil {
		t.Error("ReadLog accepted a bad header")
	}
}

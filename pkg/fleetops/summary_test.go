package fleetops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// errBuilderDeath is what pkg/build returns when the builder was killed.
var errBuilderDeath = errors.New("build image app:v2: signal: killed: #6 [app 2/5] RUN bundle install")

func TestBuildErrorOfAnInterruptedBuildIsTheCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := buildError(ctx, "app:v2", errBuilderDeath)
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "killed") || strings.Contains(err.Error(), "DEPRECATED") {
		t.Fatalf("interrupted build: want the cancellation without the builder's text, got %v", err)
	}
	if err := buildError(context.Background(), "app:v2", errBuilderDeath); !errors.Is(err, errBuilderDeath) {
		t.Fatalf("a build that fails on its own keeps its error, got %v", err)
	}
}

func TestSummarySaysWhatEachHostServes(t *testing.T) {
	web1, web2, web3 := fleet.Target{Host: "h1", Role: "web"}, fleet.Target{Host: "h2", Role: "web"}, fleet.Target{Host: "h3", Role: "web"}
	tests := []struct {
		name string
		rep  *fleet.Report
		err  error
		want []string
		not  []string
	}{
		{"cancelled during the build", nil, fmt.Errorf("build app:v2: %w", context.Canceled),
			[]string{"CANCELLED", "3 host(s)", "no host was changed: h1, h2, h3"}, []string{"FAILED", "killed"}},
		{"cancelled between batches", &fleet.Report{Outcomes: []fleet.Outcome{
			{Target: web1, Previous: "v1", Status: fleet.StatusRolledBack},
			{Target: web2, Previous: "v1", Status: fleet.StatusNotStarted},
			{Target: web3, Previous: "", Status: fleet.StatusNotStarted},
		}}, context.Canceled, []string{"CANCELLED", "h1/web: rolled back, serves v1", "h2/web: not started, serves v1", "h3/web: not started, serves nothing"}, []string{"FAILED"}},
		{"failed with every host switched", &fleet.Report{Outcomes: []fleet.Outcome{
			{Target: web1, Previous: "v1", Status: fleet.StatusDeployed},
			{Target: web2, Previous: "v1", Status: fleet.StatusRollbackFailed, Err: errors.New("h2 unreachable")},
		}}, errors.New("boom"), []string{"FAILED", "h1/web: deployed, serves v2", "h2/web: rollback failed, serves an unknown version", "h2 unreachable"}, []string{"CANCELLED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			s := &Session{Cfg: &spec.Config{Service: "app"}, out: output.New(&out, &out, output.Normal, nil)}
			s.summary(verbDeploy, "v2", []string{"h1", "h2", "h3"}, tt.rep, 0, tt.err)
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, out.String())
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("summary has %q:\n%s", n, out.String())
				}
			}
		})
	}
}

// TestCancelledBeforeTheDeploySaysCancelled: a Ctrl-C while the hosts are
// prepared or the sidecar is shipped ends with the CANCELLED summary, even
// when the step cut short said something else; a failure of its own there
// prints no summary.
func TestCancelledBeforeTheDeploySaysCancelled(t *testing.T) {
	sshErr := errors.New("ship sidecar image: list images on host: ssh h1: session closed")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	s := &Session{Cfg: &spec.Config{Service: "app"}, out: output.New(&out, &out, output.Normal, nil)}
	if err := s.failedEarly(ctx, verbDeploy, "v2", []string{"h1", "h2"}, sshErr); !errors.Is(err, sshErr) {
		t.Errorf("returned %v, want the step's error", err)
	}
	for _, w := range []string{"CANCELLED", "no host was changed: h1, h2"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	if err := s.failedEarly(context.Background(), verbDeploy, "v2", []string{"h1"}, sshErr); !errors.Is(err, sshErr) || out.Len() != 0 {
		t.Errorf("a failure of its own: returned %v, printed %q; want the error and nothing printed", err, out.String())
	}
}

// TestHostLostBeforeTheDeployIsNamed: a host that stops answering while the
// hosts are prepared (cut off during its SSH handshake) fails the command
// with a HostLostError naming it, the phase, and that nothing was swapped.
func TestHostLostBeforeTheDeployIsNamed(t *testing.T) {
	lost := &transport.LostError{Host: "h1", Err: errors.New("no answer")}
	var out bytes.Buffer
	s := &Session{Cfg: &spec.Config{Service: "app"}, out: output.New(&out, &out, output.Normal, nil)}
	err := s.failedEarly(context.Background(), verbDeploy, "v2", []string{"h1", "h2"}, &transport.HostError{Host: "h1", Err: lost})
	var hl *HostLostError
	if !errors.As(err, &hl) || hl.Host != "h1" || hl.Phase != phasePrepare || !hl.Untouched || !slices.Equal(hl.Others, []string{"h2"}) {
		t.Fatalf("want a HostLostError for h1 in %s with h2 untouched, got %#v", phasePrepare, err)
	}
	if !errors.Is(err, transport.ErrConnectionLost) {
		t.Errorf("%v does not wrap ErrConnectionLost", err)
	}
}

// TestRollbackSummarySaysWhatEachHostServes: after a failed rollback a host
// that rolled back serves the rollback's version, not "nothing".
func TestRollbackSummarySaysWhatEachHostServes(t *testing.T) {
	var out bytes.Buffer
	s := &Session{Cfg: &spec.Config{Service: "app"}, out: output.New(&out, &out, output.Normal, nil)}
	rep := &fleet.Report{Outcomes: []fleet.Outcome{
		{Target: fleet.Target{Host: "h1", Role: "web"}, Status: fleet.StatusFailed, Err: errors.New("progress stream ended")},
		{Target: fleet.Target{Host: "h2", Role: "web"}, Status: fleet.StatusRolledBack},
		{Target: fleet.Target{Host: "h3", Role: "web"}, Status: fleet.StatusUndone, Previous: "v2"},
	}}
	s.summary(verbRollback, "v1", []string{"h1", "h2"}, rep, 0, errors.New("h1: progress stream ended"))
	for _, w := range []string{"FAILED", "h1/web: failed, serves an unknown version", "h2/web: rolled back, serves v1", "h3/web: undone, serves v2"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "nothing") {
		t.Errorf("summary says a host serves nothing:\n%s", out.String())
	}
}

// An error from a step the interrupt cut short counts as the cancel;
// without an interrupt it stays a failure.
func TestInterruptedMarksCutShortSteps(t *testing.T) {
	killed := errors.New("inspect architecture: signal: killed")
	ctx, cancel := context.WithCancel(context.Background())
	if err := interrupted(ctx, killed); errors.Is(err, context.Canceled) || !errors.Is(err, killed) {
		t.Fatalf("interrupted without an interrupt = %v, want the error alone", err)
	}
	cancel()
	if err := interrupted(ctx, killed); !errors.Is(err, context.Canceled) || !errors.Is(err, killed) {
		t.Fatalf("interrupted after the interrupt = %v, want it and context.Canceled", err)
	}
	if interrupted(ctx, nil) != nil {
		t.Fatal("interrupted(nil) is not nil")
	}
}

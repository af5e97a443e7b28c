package fleetops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

func TestDescribeLostNamesHostPhaseAndWhatTheOthersServe(t *testing.T) {
	lost := &transport.LostError{Host: "h2", Silent: 6 * time.Second}
	hosts := []string{"h1", "h2", "h3"}
	swapped := &fleet.Report{Outcomes: []fleet.Outcome{
		{Target: fleet.Target{Host: "h1", Role: "web"}, Previous: "v1", Status: fleet.StatusRolledBack},
		{Target: fleet.Target{Host: "h2", Role: "web"}, Previous: "v1", Status: fleet.StatusFailed, Err: lost},
		{Target: fleet.Target{Host: "h3", Role: "web"}, Previous: "v1", Status: fleet.StatusNotStarted},
	}}
	tests := []struct {
		name  string
		err   error
		rep   *fleet.Report
		phase string
		says  string
	}{
		{"mid-ship", tagPhase(phaseShip, fmt.Errorf("ship image to h2: %w", lost)), nil, phaseShip,
			"nothing was swapped: the other hosts (h1, h3) still serve the version they served before"},
		{"mid-migrate", fmt.Errorf("migrations failed, nothing was swapped: %w", tagPhase(phaseMigrate, lost)), nil, phaseMigrate, "(h1, h3)"},
		{"mid-swap", &fleet.Error{Cause: lost}, swapped, phaseSwap, "the other hosts (h1, h3) still serve v1"},
		{"reading live versions", fmt.Errorf("read live version of h2/web: %w", lost), &fleet.Report{}, phaseSwap,
			"nothing was swapped: the other hosts (h1, h3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := describeLost(tt.err, hosts, tt.rep, "v2")
			var hl *HostLostError
			if !errors.As(err, &hl) || hl.Host != "h2" || hl.Phase != tt.phase || !errors.Is(err, transport.ErrConnectionLost) {
				t.Fatalf("want a HostLostError for h2 in %s wrapping the loss, got %#v", tt.phase, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "h2") || !strings.Contains(msg, tt.phase) || !strings.Contains(msg, tt.says) {
				t.Errorf("message %q does not name the host, the phase and %q", msg, tt.says)
			}
		})
	}
	other := errors.New("boom")
	if err := describeLost(other, hosts, nil, "v2"); err != other {
		t.Errorf("an error without a lost host changed: %v", err)
	}
	if err := describeLost(context.Canceled, hosts, nil, "v2"); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancel changed: %v", err)
	}
	// Some host left on the new version: no single claim about the others.
	mixed := &fleet.Report{Outcomes: []fleet.Outcome{
		{Target: fleet.Target{Host: "h1", Role: "web"}, Previous: "v1", Status: fleet.StatusDeployed},
		{Target: fleet.Target{Host: "h3", Role: "web"}, Previous: "v1", Status: fleet.StatusRollbackFailed},
	}}
	if err := describeLost(&fleet.Error{Cause: lost}, hosts, mixed, "v2"); strings.Contains(err.Error(), "still serve") {
		t.Errorf("claims what the others serve when they differ: %v", err)
	}
}

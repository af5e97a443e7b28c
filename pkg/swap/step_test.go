package swap

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// The persisted step names: journals on hosts hold these strings, so a
// change here breaks their meaning.
func TestStepNamesArePersisted(t *testing.T) {
	d := testDeploy("v2")
	d.ApplyDefaults()
	blue := []docker.Container{running("app-web-v1")}
	steps := []struct {
		step Step
		name string
	}{
		{checkImage{}, "check-image"},
		{renameAside{}, "rename-aside"},
		{startGreen{}, "start-green"},
		{startRetained{}, "start-retained"},
		{waitHealthy{}, "wait-healthy"},
		{cutover{proxy: d.Proxy}, "cutover"},
		{drainBlue{blue: blue}, "drain-blue"},
		{stopBlue{blue: blue}, "stop-blue"},
		{prune{}, "prune"},
	}
	for _, tt := range steps {
		if got := tt.step.Name(); got != tt.name {
			t.Errorf("%T.Name() = %q, want %q", tt.step, got, tt.name)
		}
	}
}

func TestRoutesGreen(t *testing.T) {
	routed := map[string]bool{
		StepCheckImage: false, StepRenameAside: false, StepStartGreen: false, StepStartRetained: false,
		StepWaitHealthy: false, StepCutover: true, StepDrainBlue: true, StepStopBlue: true, StepPrune: true,
	}
	for step, want := range routed {
		if got := RoutesGreen(step); got != want {
			t.Errorf("RoutesGreen(%s) = %v, want %v", step, got, want)
		}
	}
}

func TestUndoPlan(t *testing.T) {
	green := docker.Container{ID: "g", Name: "app-web-v2"}
	blue := []docker.Container{running("app-web-v1")}
	tests := []struct {
		name       string
		blue       []docker.Container
		green      docker.Container
		wasRunning bool
		routed     bool
		cancelled  bool
		want       []string
	}{
		{"failed before green exists", blue, docker.Container{}, false, false, false, nil},
		{"failed while green starts", blue, green, false, false, false, []string{"stop-green", "read-logs"}},
		{"failed at cutover", blue, green, false, true, false, []string{"route-back", "stop-green", "read-logs"}},
		{"first deploy failed at cutover", nil, green, false, true, false, []string{"unroute", "stop-green", "read-logs"}},
		{"rollback target ran before", blue, green, true, true, false, []string{"route-back"}},
		{"cancelled before cutover", blue, green, false, false, true, []string{"stop-green"}},
		{"cancelled after cutover began", blue, green, false, true, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{plan: &Plan{Blue: tt.blue}, green: tt.green, greenWasRunning: tt.wasRunning, routed: tt.routed}
			var got []string
			for _, st := range r.undoPlan(tt.cancelled) {
				got = append(got, st.Name())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("undo plan %v, want %v", got, tt.want)
			}
		})
	}
}

// inspectFunc serves HealthProber's one engine call.
type inspectFunc func(ctx context.Context, id string) (docker.Container, error)

func (f inspectFunc) Inspect(ctx context.Context, id string) (docker.Container, error) {
	return f(ctx, id)
}

func TestHealthProberCheck(t *testing.T) {
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	t.Cleanup(srv.Close)
	host, portText, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portText)
	up := docker.Container{ID: "c", Name: "app-web-v1", State: docker.StateRunning, IPs: map[string]string{"kamal": host}}
	down := up
	down.State = docker.StateExited
	p := HealthProber{Docker: inspectFunc(func(context.Context, string) (docker.Container, error) { return up, nil })}
	httpCheck := contract.Healthcheck{Kind: contract.HealthHTTP, Path: "/up", Port: port,
		Interval: contract.Duration(10 * time.Millisecond), Timeout: contract.Duration(time.Second)}
	tests := []struct {
		name   string
		check  contract.Healthcheck
		c      docker.Container
		status int
		ok     bool
	}{
		{"http 200", httpCheck, up, http.StatusOK, true},
		{"http 500", httpCheck, up, http.StatusInternalServerError, false},
		{"not running", httpCheck, down, http.StatusOK, false},
		{"running check needs only the process", contract.Healthcheck{Kind: contract.HealthRunning}, up, http.StatusInternalServerError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status = tt.status
			d := &contract.Deploy{Network: "kamal", Healthcheck: tt.check, DeployTimeout: contract.Duration(time.Hour)}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := p.Check(ctx, d, tt.c)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("check took %s: it must be bounded by ctx, not the 1h deploy timeout", took)
			}
		})
	}
}

package sidecar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// fakeEngine is the Docker side of booting Traefik, recording calls.
type fakeEngine struct {
	calls []string
	ctrs  map[string]*docker.Container
	n     int
	// exitOnStart makes a started container exit at once (bad flag).
	exitOnStart bool
}

func (f *fakeEngine) Inspect(_ context.Context, id string) (docker.Container, error) {
	for _, c := range f.ctrs {
		if c.ID == id || c.Name == id {
			return *c, nil
		}
	}
	return docker.Container{}, fmt.Errorf("inspect %s: %w", id, docker.ErrNotFound)
}

func (f *fakeEngine) Create(_ context.Context, s docker.ContainerSpec) (string, error) {
	f.n++
	id := fmt.Sprintf("id%d", f.n)
	f.calls = append(f.calls, "create "+strings.Join(s.Cmd, " "))
	f.ctrs[s.Name] = &docker.Container{ID: id, Name: s.Name, Labels: s.Labels, State: docker.StateCreated}
	return id, nil
}

func (f *fakeEngine) Start(_ context.Context, id string) error {
	f.calls = append(f.calls, "start "+id)
	for _, c := range f.ctrs {
		if c.ID == id {
			c.State, c.StartedAt = docker.StateRunning, time.Now().Add(-time.Second)
			if f.exitOnStart {
				c.State, c.ExitCode = docker.StateExited, 1
			}
		}
	}
	return nil
}

func (f *fakeEngine) Stop(_ context.Context, id string, _ time.Duration) error {
	f.calls = append(f.calls, "stop "+id)
	return nil
}

func (f *fakeEngine) Remove(_ context.Context, id string, _ bool) error {
	f.calls = append(f.calls, "remove "+id)
	for name, c := range f.ctrs {
		if c.ID == id {
			delete(f.ctrs, name)
		}
	}
	return nil
}

func (f *fakeEngine) NetworkEnsure(context.Context, string, map[string]string) (string, error) {
	return "net", nil
}

func TestTraefikBootIsIdempotent(t *testing.T) {
	eng := &fakeEngine{ctrs: map[string]*docker.Container{}}
	b := newTraefikBooter(eng, "kamal", func(req contract.TraefikRequest) (docker.ContainerSpec, error) {
		return traefikContainerSpec("/var/lib/kamal", "kamal", req)
	})
	ctx := context.Background()
	req := contract.TraefikRequest{Image: "traefik:v3.6.12"}
	if st, err := b.Boot(ctx, req, false); err != nil || !st.Running || st.Container != TraefikContainer {
		t.Fatalf("first boot: %+v %v", st, err)
	}
	if _, err := b.Boot(ctx, req, false); err != nil {
		t.Fatal(err)
	}
	if len(eng.calls) != 2 {
		t.Errorf("second boot with the same config changed something: %v", eng.calls)
	}
	req.Args = map[string]string{"log.level": "DEBUG"}
	if _, err := b.Boot(ctx, req, false); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(eng.calls[2:], "|"); !strings.HasPrefix(got, "stop id1|remove id1|create ") || !strings.Contains(got, "--log.level=DEBUG") {
		t.Errorf("changed config did not replace the container: %v", eng.calls)
	}
	n := len(eng.calls)
	if _, err := b.Boot(ctx, req, true); err != nil {
		t.Fatal(err)
	}
	if len(eng.calls) == n {
		t.Errorf("reboot did nothing")
	}
	eng.exitOnStart = true
	if _, err := b.Boot(ctx, contract.TraefikRequest{Image: "traefik:v3.6.12", Args: map[string]string{"bogus": "1"}}, false); err == nil ||
		!strings.Contains(err.Error(), "exited") {
		t.Errorf("a Traefik that exits at once: want an error, got %v", err)
	}
}

// A boot waits for one under way only as long as its ctx allows.
func TestTraefikBootWaitsForItsTurnWithinCtx(t *testing.T) {
	eng := &fakeEngine{ctrs: map[string]*docker.Container{}}
	b := newTraefikBooter(eng, "kamal", func(req contract.TraefikRequest) (docker.ContainerSpec, error) {
		return traefikContainerSpec("/var/lib/kamal", "kamal", req)
	})
	b.turn <- struct{}{} // another boot is under way
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.Boot(ctx, contract.TraefikRequest{Image: "traefik:v3.6.12"}, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("boot while another runs: want its ctx's deadline, got %v", err)
	}
	if len(eng.calls) != 0 {
		t.Errorf("a boot that never got its turn called the engine: %v", eng.calls)
	}
	<-b.turn
	if _, err := b.Boot(context.Background(), contract.TraefikRequest{Image: "traefik:v3.6.12"}, false); err != nil {
		t.Fatalf("boot once the other is done: %v", err)
	}
}

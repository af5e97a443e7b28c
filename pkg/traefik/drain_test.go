package traefik_test

import (
	"context"
	"errors"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/procnet"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

var blue = []swap.Server{{Container: "app-web-old", Address: "172.18.0.4:3000"}}

// sockets is a Traefik namespace with open established connections to
// blue, closing one per poll when closing, plus ones to others and in other
// states that Drain must not count.
func sockets(open int, closing bool) (func(context.Context) ([]procnet.Socket, error), *atomic.Int64) {
	var polls atomic.Int64
	return func(context.Context) ([]procnet.Socket, error) {
		n := open
		if p := int(polls.Add(1)); closing {
			n = open - p + 1
		}
		local := netip.MustParseAddrPort("172.18.0.2:40000")
		out := []procnet.Socket{
			{Local: local, Remote: netip.MustParseAddrPort("172.18.0.5:3000"), State: procnet.Established},
			{Local: local, Remote: netip.MustParseAddrPort("172.18.0.4:3000"), State: procnet.TimeWait},
			{Local: local, Remote: netip.MustParseAddrPort("172.18.0.4:9999"), State: procnet.Established},
		}
		for range max(n, 0) {
			out = append(out, procnet.Socket{Local: local, Remote: netip.MustParseAddrPort("172.18.0.4:3000"), State: procnet.Established})
		}
		return out, nil
	}, &polls
}

func TestDrainWaitsForConnectionsToClose(t *testing.T) {
	r, _ := newDynamic(t)
	var polls *atomic.Int64
	r.Sockets, polls = sockets(3, true)
	d := deploy(t, "", &contract.Proxy{Hosts: []string{"app.example.com"}, AppPort: 3000})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Drain(ctx, d, blue); err != nil {
		t.Fatal(err)
	}
	if n := polls.Load(); n != 4 {
		t.Errorf("drained after %d polls, want 4 (3 connections closing one a poll)", n)
	}
}

func TestDrainTimesOutWithConnectionsOpen(t *testing.T) {
	r, _ := newDynamic(t)
	r.Sockets, _ = sockets(2, false)
	d := deploy(t, "", &contract.Proxy{Hosts: []string{"app.example.com"}, AppPort: 3000})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Drain(ctx, d, blue)
	if !errors.Is(err, traefik.ErrDrainTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrDrainTimeout and DeadlineExceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("drain held %s past its 100ms bound", took)
	}
}

// TestDrainCountsTheRoutedPort: with labels naming another port, Traefik
// dials that port, so that is what the drain counts.
func TestDrainCountsTheRoutedPort(t *testing.T) {
	r, _ := newDynamic(t)
	r.Sockets, _ = sockets(0, false)
	d := deploy(t, "", &contract.Proxy{TraefikLabels: map[string]string{
		"traefik.http.routers.app.rule":                      "Host(`a.test`)",
		"traefik.http.services.app.loadbalancer.server.port": "9999",
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.Drain(ctx, d, blue); !errors.Is(err, traefik.ErrDrainTimeout) {
		t.Fatalf("err = %v: the connection to port 9999 was not counted", err)
	}
}

func TestDrainSocketsError(t *testing.T) {
	r, _ := newDynamic(t)
	errProc := errors.New("proc unreadable")
	r.Sockets = func(context.Context) ([]procnet.Socket, error) { return nil, errProc }
	d := deploy(t, "", &contract.Proxy{Hosts: []string{"app.example.com"}, AppPort: 3000})
	if err := r.Drain(context.Background(), d, blue); !errors.Is(err, errProc) {
		t.Fatalf("err = %v, want the sockets error", err)
	}
	r.Sockets = nil
	if err := r.Drain(context.Background(), d, blue); err != nil {
		t.Fatalf("without Sockets: %v, want nil at once", err)
	}
}

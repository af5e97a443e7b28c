package traefik_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker/dockertest"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
	"github.com/dockerkamal/docker-kamal/pkg/traefik/routes"
)

// load sends requests through Traefik until stopped and counts outcomes.
type load struct {
	ok, bad, failed atomic.Int64
	mu              sync.Mutex
	seen            map[string]int
	lastErr         atomic.Value
}

func runLoad(ctx context.Context, web, host string, workers int) (*load, func()) {
	l := &load{seen: map[string]int{}}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			for ctx.Err() == nil {
				body, code, err := throughWith(c, web, host, "/")
				switch {
				case ctx.Err() != nil:
				case err != nil:
					l.failed.Add(1)
					l.lastErr.Store(err.Error())
				case code != http.StatusOK:
					l.bad.Add(1)
					l.lastErr.Store(body)
				default:
					l.ok.Add(1)
					l.mu.Lock()
					l.seen[strings.TrimSpace(body)]++
					l.mu.Unlock()
				}
			}
		}()
	}
	return l, func() { cancel(); wg.Wait() }
}

func throughWith(c *http.Client, web, host, path string) (string, int, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+web+path, nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 512)
	n, _ := resp.Body.Read(buf)
	b.Write(buf[:n])
	return b.String(), resp.StatusCode, nil
}

// TestEngineWithRealTraefikUnderLoad runs pkg/swap on the real engine with
// this package's traefik.Dynamic and the real Traefik binary, under constant load:
// deploy v1 -> v2, a never-healthy v3, and a rollback to v1, with no failed
// request.
func TestEngineWithRealTraefikUnderLoad(t *testing.T) {
	web, r := startTraefik(t)
	c := dockertest.Client(t)
	img := dockertest.AppImage(t, c)
	network := dockertest.Network(t, c)
	service := "kt" + dockertest.Unique(t)
	engine := &swap.Engine{Docker: c, Router: r, Logger: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mk := func(version string, env map[string]string) *contract.Deploy {
		e := map[string]string{"VERSION": version}
		for k, v := range env {
			e[k] = v
		}
		d := &contract.Deploy{
			APIVersion: contract.APIVersion, Service: service, Role: "web", Version: version, Image: img,
			Env: e, Labels: map[string]string{dockertest.Label: network}, Network: network,
			Healthcheck: contract.Healthcheck{Kind: contract.HealthHTTP, Path: "/up", Port: 8080,
				Interval: contract.Duration(50 * time.Millisecond), Timeout: contract.Duration(time.Second)},
			Proxy:         &contract.Proxy{Hosts: []string{"app.test"}, AppPort: 8080},
			DeployTimeout: contract.Duration(5 * time.Second), StopTimeout: contract.Duration(10 * time.Second),
			DrainTimeout: contract.Duration(3 * time.Second),
		}
		if err := routes.Attach(d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if _, err := engine.Deploy(ctx, mk("v1", nil), nil); err != nil {
		t.Fatal(err)
	}
	l, stop := runLoad(ctx, web, "app.test", 4)
	waitFor(t, func() bool { return l.ok.Load() > 50 })

	drains := drainTimes{}
	res, err := engine.Deploy(ctx, mk("v2", nil), drains.add)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("v2: healthy %s, cutover (green healthy -> traefik serving green) %s, drain %v, total %s", res.Healthy, res.Cutover, drains, res.Total)
	noDrainWarning(t, "v2", res)
	mark := l.ok.Load()
	waitFor(t, func() bool { return l.ok.Load() > mark+50 })

	_, err = engine.Deploy(ctx, mk("v3", map[string]string{"UNHEALTHY": "1"}), nil)
	var se *swap.StepError
	if !errors.As(err, &se) || se.Step != swap.StepWaitHealthy || !strings.Contains(err.Error(), "testapp v3 booting") {
		t.Fatalf("v3: %v", err)
	}

	start := time.Now()
	res, err = engine.Rollback(ctx, contract.Role{Service: service, Role: "web"}, "v1", drains.add)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("rollback to v1: %s (healthy %s, cutover %s, drain %v)", took, res.Healthy, res.Cutover, drains)
	noDrainWarning(t, "rollback", res)
	mark = l.ok.Load()
	waitFor(t, func() bool { return l.ok.Load() > mark+50 })
	stop()

	l.mu.Lock()
	seen := l.seen
	l.mu.Unlock()
	t.Logf("load: %d ok, %d non-2xx, %d errors; served by %v", l.ok.Load(), l.bad.Load(), l.failed.Load(), seen)
	if l.bad.Load() != 0 || l.failed.Load() != 0 {
		t.Errorf("%d non-2xx and %d failed requests during the swaps (last: %v)", l.bad.Load(), l.failed.Load(), l.lastErr.Load())
	}
	if seen["v1"] == 0 || seen["v2"] == 0 || seen["v3"] != 0 {
		t.Errorf("versions served %v", seen)
	}
	body, _, err := throughWith(http.DefaultClient, web, "app.test", "/")
	if err != nil || strings.TrimSpace(body) != "v1" {
		t.Errorf("after rollback: %q %v", body, err)
	}
	if took > 10*time.Second {
		t.Errorf("rollback took %s", took)
	}
}

// drainTimes collects the drain-blue steps' durations from progress events.
type drainTimes []time.Duration

func (d *drainTimes) add(e contract.Event) {
	if e.Step == swap.StepDrainBlue && e.Status == contract.EventDone {
		*d = append(*d, e.Elapsed.D())
	}
}

// noDrainWarning: under load the drain (Traefik's connections to blue
// counted in its namespace) ends within the drain timeout, because the
// role's transport closes idle keep-alive connections at once.
func noDrainWarning(t *testing.T, what string, res *swap.Result) {
	t.Helper()
	for _, w := range res.Warnings {
		if strings.HasPrefix(w, swap.StepDrainBlue) {
			t.Errorf("%s: %s", what, w)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// swapKill is one fault of TestSwapFaults: a process killed when a step of a
// deploy starts.
type swapKill struct {
	step string
	// routesGreen: from this step on a restarted sidecar finishes the swap
	// (pkg/swap.RoutesGreen); before it, it undoes it.
	routesGreen bool
}

// The steps of a deploy of a routed role on a host with blue running
// (pkg/swap's plan: check-image, start-green, wait-healthy, cutover,
// drain-blue, stop-blue, prune; rename-aside only when green's name is taken).
var swapKills = []swapKill{
	{"check-image", false}, {"start-green", false}, {"wait-healthy", false},
	{"cutover", true}, {"drain-blue", true}, {"stop-blue", true}, {"prune", true},
}

// TestSwapFaults kills, on one host under constant load through Traefik,
// the sidecar at every step of a deploy, then Traefik mid-swap. Every app
// version exits at once on SIGTERM (EXIT_ON_SIGTERM=1), so any request cut
// by a stop shows up as a failure. After each fault the host serves one
// healthy, routed version.
func TestSwapFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	env := newSidecarEnv(t, ctx, "v1")
	env.shipApp(t, ctx, "v1")
	sf := &swapFaults{env: env, live: "s0"}
	if _, err := env.api.Apply(ctx, sf.spec("s0", nil), nil); err != nil {
		t.Fatalf("apply s0: %v", err)
	}
	env.serving(t, ctx, swapFaultsSvc, "", "s0")

	for _, k := range swapKills {
		t.Run("sidecar killed at "+k.step, func(t *testing.T) { sf.killSidecarAt(t, ctx, k) })
	}
	for _, step := range []string{"cutover", "drain-blue"} {
		t.Run("traefik killed at "+step, func(t *testing.T) { sf.killTraefikAt(t, ctx, step) })
	}
}

const swapFaultsSvc = "sf"

type swapFaults struct {
	env  *sidecarEnv
	live string // the version the host serves
	n    int    // versions deployed
}

// spec is version of the sample app, announcing version, exiting at once on
// SIGTERM.
func (sf *swapFaults) spec(version string, extra map[string]string) *contract.Deploy {
	e := map[string]string{"APP_VERSION": version, "EXIT_ON_SIGTERM": "1"}
	for k, v := range extra {
		e[k] = v
	}
	return sf.env.appSpec(swapFaultsSvc, "", version, "v1", e)
}

func (sf *swapFaults) next() string {
	sf.n++
	return fmt.Sprintf("s%d", sf.n)
}

// applyKilling deploys version and runs kill once when step starts; it
// reports the apply's error and whether the kill ran.
func (sf *swapFaults) applyKilling(t *testing.T, ctx context.Context, d *contract.Deploy, step string, kill func() error) (*contract.Result, error) {
	t.Helper()
	var once sync.Once
	var kerr error
	ran := false
	res, err := sf.env.api.Apply(ctx, d, func(e contract.Event) {
		if e.Step == step && e.Status == contract.EventStart {
			once.Do(func() { ran, kerr = true, kill() })
		}
	})
	if !ran {
		t.Fatalf("step %s never started (apply: %v)", step, err)
	}
	if kerr != nil {
		t.Fatalf("kill at %s: %v", step, kerr)
	}
	return res, err
}

func (sf *swapFaults) killSidecarAt(t *testing.T, ctx context.Context, k swapKill) {
	env, old, next := sf.env, sf.live, sf.next()
	extra := map[string]string{}
	if !k.routesGreen {
		// Green takes 3 s to listen, so a kill at an earlier step lands
		// before the cutover.
		extra["SLOW_START_MS"] = "3000"
	}
	g := env.load(t, ctx, swapFaultsSvc, "")
	var slow *slowRequest
	if k.step == "drain-blue" {
		// In flight on blue: the restarted sidecar finishes the swap and
		// must drain blue before stopping it.
		slow = env.slowRequest(t, ctx, swapFaultsSvc, 4*time.Second)
	}
	_, err := sf.applyKilling(t, ctx, sf.spec(next, extra), k.step, func() error {
		return env.h.KillProcess(ctx, "kamal-sidecar", "KILL")
	})
	t.Logf("apply %s, sidecar killed at %s: %v", next, k.step, err)
	env.waitSidecar(t, ctx)
	st := env.waitIdle(t, ctx, swapFaultsSvc, "")
	want, versions := old, []string{old}
	if k.routesGreen {
		want, versions = next, []string{old, next}
	}
	t.Logf("after the restart: live %s, last %s %s (%s)", st.LiveVersion, st.LastResult, st.LastVersion, st.LastError)
	if st.LiveVersion != want || st.Health != contract.HealthHealthy {
		t.Errorf("after the restart: live %s health %s (last %s: %s); want %s healthy", st.LiveVersion, st.Health, st.LastResult, st.LastError, want)
	}
	sf.oneVersion(t, ctx, want)
	stopLoad(t, g, versions...)
	if slow != nil {
		a := slow.wait(t)
		if a.err != nil || a.status != http.StatusOK || a.version != old {
			t.Errorf("request in flight on blue across the restart: status %d version %q err %v; want 200 from %s", a.status, a.version, a.err, old)
		}
	}
	sf.live = want
}

// oneVersion: the host runs exactly one container of the role, version's,
// and Traefik serves it.
func (sf *swapFaults) oneVersion(t *testing.T, ctx context.Context, version string) {
	t.Helper()
	sf.env.serving(t, ctx, swapFaultsSvc, "", version)
	out, err := sf.env.h.Docker(ctx, "ps", "--filter", "label=kamal.service="+swapFaultsSvc, "--format", "{{.Names}}")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Fields(out), swapFaultsSvc+"-web-"+version; len(got) != 1 || got[0] != want {
		t.Errorf("running containers of %s: %v, want only %s", swapFaultsSvc, got, want)
	}
}

// killTraefikAt kills Traefik's process when step starts: the swap either
// completes or routes back, Traefik comes back through its restart policy,
// and the host serves one version. Requests fail while Traefik is down;
// they are counted, not required to be 0.
func (sf *swapFaults) killTraefikAt(t *testing.T, ctx context.Context, step string) {
	env, old, next := sf.env, sf.live, sf.next()
	restarts := env.traefikRestarts(t, ctx)
	g := env.load(t, ctx, swapFaultsSvc, "")
	var killedAt time.Time
	res, err := sf.applyKilling(t, ctx, sf.spec(next, nil), step, func() error {
		killedAt = time.Now()
		return env.h.KillProcess(ctx, "traefik", "KILL")
	})
	waitUntil(t, 30*time.Second, func() bool { return env.traefikRestarts(t, ctx) > restarts },
		func() string { return "traefik did not come back through its restart policy" })
	want := next
	if err != nil {
		want = old
	}
	st := env.waitIdle(t, ctx, swapFaultsSvc, "")
	if st.LiveVersion != want {
		t.Errorf("live %s after apply %s (err %v), want %s", st.LiveVersion, next, err, want)
	}
	sf.oneVersion(t, ctx, want)
	back := time.Since(killedAt)
	base := g.Served(want)
	waitUntil(t, 10*time.Second, func() bool { return g.Served(want) >= base+tailRequests },
		func() string { return "load not served again after traefik's restart" })
	rep := g.Stop()
	s := rep.Summary
	outage := failuresWithin(t, rep.Results, killedAt, killedAt.Add(back))
	t.Logf("traefik killed at %s: apply %v (warnings %v); serving %s again within %s; load %d requests, %d errors, %d non-2xx, statuses %v, all within %s of the kill",
		step, err, resultWarnings(res), want, back.Round(time.Millisecond), s.Total, s.Errors, s.Non2xx, s.Statuses, outage.Round(time.Millisecond))
	sf.live = want
}

// failuresWithin asserts every failed request ended between from (the
// kill) and to (Traefik serving again) and returns how long after from the
// last one ended.
func failuresWithin(t *testing.T, rs []loadgen.Result, from, to time.Time) time.Duration {
	t.Helper()
	var last time.Duration
	for _, r := range rs {
		if r.Status == http.StatusOK {
			continue
		}
		end := r.Start.Add(r.Latency)
		if end.Before(from) || end.After(to) {
			t.Errorf("request %d failed (status %d) at %s, outside traefik's outage %s .. %s",
				r.Seq, r.Status, end.Format(time.StampMilli), from.Format(time.StampMilli), to.Format(time.StampMilli))
		}
		last = max(last, end.Sub(from))
	}
	return last
}

func resultWarnings(r *contract.Result) []string {
	if r == nil {
		return nil
	}
	return r.Warnings
}

// traefikRestarts is the Traefik container's restart count, once it runs.
func (env *sidecarEnv) traefikRestarts(t *testing.T, ctx context.Context) int {
	t.Helper()
	out, err := env.h.Docker(ctx, "inspect", "--format", "{{.State.Running}} {{.RestartCount}}", "kamal-traefik")
	if err != nil {
		return -1
	}
	var running bool
	var n int
	if _, err := fmt.Sscan(out, &running, &n); err != nil || !running {
		return -1
	}
	return n
}

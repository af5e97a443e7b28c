package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// TestSidecar drives one host's sidecar through its API (over SSH unix
// socket forwarding) with real dockerd, Traefik and the sample app, each
// swap under constant load through Traefik. The subtests share the host and
// run in order: each starts from the state the previous one left.
func TestSidecar(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	env := newSidecarEnv(t, ctx, "v1", "v2", "v3", "v4")
	const svc = "sc"
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		env.shipApp(t, ctx, v)
	}

	t.Run("first deploy v1", func(t *testing.T) {
		res, err := env.api.Apply(ctx, env.appSpec(svc, "", "v1", "v1", nil), nil)
		if err != nil {
			t.Fatalf("apply v1: %v", err)
		}
		if res.Container != "sc-web-v1" || res.PreviousVersion != "" {
			t.Errorf("result = %+v", res)
		}
		env.serving(t, ctx, svc, "", "v1")
		st := env.roleStatus(t, ctx, svc, "")
		if st.LiveVersion != "v1" || st.Health != contract.HealthHealthy || st.LastResult != "ok" {
			t.Errorf("status = %+v", st)
		}
	})

	t.Run("deploy v2 under load", func(t *testing.T) {
		g := env.load(t, ctx, svc, "")
		var healthyAt time.Time
		steps := stepTimes{}
		res, err := env.api.Apply(ctx, env.appSpec(svc, "", "v2", "v2", nil), func(e contract.Event) {
			steps.add(e)
			if e.Step == "wait-healthy" && e.Status == contract.EventDone {
				healthyAt = e.Time
			}
		})
		if err != nil {
			t.Fatalf("apply v2: %v", err)
		}
		env.serving(t, ctx, svc, "", "v2")
		rep := stopLoad(t, g, "v1", "v2")
		if res.PreviousVersion != "v1" || res.Cutover <= 0 {
			t.Errorf("result = %+v", res)
		}
		firstV2 := lastVersionStart(rep)
		t.Logf("MEASURE cutover (green healthy -> Traefik API shows green): %v; green healthy -> first v2 response under load: %v; swap total %v (%s)",
			res.Cutover.D(), firstV2.Sub(healthyAt), res.Duration.D(), steps)
		m := env.metrics(t, ctx)
		wantMetric(t, m, `kamal_deploys_total{result="ok"}`, 2)
		wantMetric(t, m, `kamal_live_version_info{destination="",role="web",service="sc",version="v2"}`, 1)
		if _, ok := m[`kamal_live_version_info{destination="",role="web",service="sc",version="v1"}`]; ok {
			t.Errorf("v1 still reported live")
		}
		if m[`kamal_swap_step_duration_seconds_count{result="ok",step="cutover"}`] != 2 {
			t.Errorf("cutover step durations not recorded: %v", m[`kamal_swap_step_duration_seconds_count{result="ok",step="cutover"}`])
		}
		st := env.roleStatus(t, ctx, svc, "")
		if st.LiveVersion != "v2" || st.Container != "sc-web-v2" || st.Health != contract.HealthHealthy || st.LastResult != "ok" || st.LastVersion != "v2" {
			t.Errorf("status = %+v", st)
		}
		if s := env.containerState(t, ctx, "sc-web-v1"); s != "exited" {
			t.Errorf("blue sc-web-v1 is %s, want exited (retained)", s)
		}
	})

	t.Run("never-healthy v3 leaves v2 serving", func(t *testing.T) {
		g := env.load(t, ctx, svc, "")
		d := env.appSpec(svc, "", "v3", "v3", map[string]string{"NEVER_HEALTHY": "1"})
		d.DeployTimeout = contract.Duration(4 * time.Second)
		_, err := env.api.Apply(ctx, d, nil)
		var apiErr *contract.Error
		if !errors.As(err, &apiErr) || apiErr.Code != contract.CodeDeployFailed || apiErr.Step != "wait-healthy" {
			t.Fatalf("want deploy_failed at wait-healthy, got %v", err)
		}
		if !strings.Contains(err.Error(), "version v3 listening") {
			t.Errorf("error does not carry v3's logs:\n%v", err)
		}
		stopLoad(t, g, "v2")
		if s := env.containerState(t, ctx, "sc-web-v3"); s != "exited" {
			t.Errorf("failed green sc-web-v3 is %s, want exited (kept for its logs)", s)
		}
		m := env.metrics(t, ctx)
		wantMetric(t, m, `kamal_deploys_total{result="failed"}`, 1)
		wantMetric(t, m, `kamal_health_check_failures_total{destination="",role="web",service="sc"}`, 1)
		wantMetric(t, m, `kamal_live_version_info{destination="",role="web",service="sc",version="v2"}`, 1)
		st := env.roleStatus(t, ctx, svc, "")
		if st.LiveVersion != "v2" || st.Health != contract.HealthHealthy || st.LastResult != "failed" || st.LastVersion != "v3" || st.LastError == "" {
			t.Errorf("status = %+v", st)
		}
	})

	t.Run("rollback to v1 in seconds", func(t *testing.T) {
		g := env.load(t, ctx, svc, "")
		start := time.Now()
		steps := stepTimes{}
		res, err := env.api.Rollback(ctx, contract.RollbackRequest{Role: contract.Role{Service: svc, Role: "web"}, Version: "v1", Who: "e2e"}, steps.add)
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("rollback: %v", err)
		}
		env.serving(t, ctx, svc, "", "v1")
		rep := stopLoad(t, g, "v2", "v1")
		firstV1 := lastVersionStart(rep)
		t.Logf("MEASURE rollback v2 -> v1: first v1 response under load %v after the call; call returned after %v (sidecar swap %v, cutover %v; %s)",
			firstV1.Sub(start), elapsed, res.Duration.D(), res.Cutover.D(), steps)
		if elapsed > 10*time.Second {
			t.Errorf("rollback took %v, want seconds", elapsed)
		}
		m := env.metrics(t, ctx)
		wantMetric(t, m, `kamal_rollbacks_total{result="ok"}`, 1)
		wantMetric(t, m, `kamal_live_version_info{destination="",role="web",service="sc",version="v1"}`, 1)
		st := env.roleStatus(t, ctx, svc, "")
		if st.LiveVersion != "v1" || st.LastAction != "rollback" || st.Health != contract.HealthHealthy {
			t.Errorf("status = %+v", st)
		}
	})

	t.Run("slow request across cutover completes", func(t *testing.T) {
		g := env.load(t, ctx, svc, "")
		wrote := make(chan struct{})
		type answer struct {
			status  int
			version string
			err     error
		}
		done := make(chan answer, 1)
		go func() {
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet,
				"http://"+env.h.Addr.String()+":80/sleep?ms=4000", nil)
			req.Host = hostFor(svc, "")
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				done <- answer{err: err}
				return
			}
			resp.Body.Close()
			done <- answer{status: resp.StatusCode, version: resp.Header.Get("X-App-Version")}
		}()
		select {
		case <-wrote:
		case <-time.After(10 * time.Second):
			t.Fatal("slow request was not sent")
		}
		if _, err := env.api.Apply(ctx, env.appSpec(svc, "", "v2", "v2", nil), nil); err != nil {
			t.Fatalf("apply v2: %v", err)
		}
		a := <-done
		if a.err != nil || a.status != 200 || a.version != "v1" {
			t.Errorf("slow request on blue: status %d version %q err %v; want 200 from v1", a.status, a.version, a.err)
		}
		stopLoad(t, g, "v1", "v2")
	})

	t.Run("sidecar killed mid-swap before cutover", func(t *testing.T) {
		g := env.load(t, ctx, svc, "")
		d := env.appSpec(svc, "", "v4", "v4", map[string]string{"SLOW_START_MS": "6000"})
		killed := make(chan error, 1)
		_, err := env.api.Apply(ctx, d, func(e contract.Event) {
			if e.Step == "wait-healthy" && e.Status == contract.EventStart {
				killed <- env.h.KillProcess(ctx, "kamal-sidecar", "KILL")
			}
		})
		if err == nil {
			t.Fatal("apply survived the sidecar being killed")
		}
		if kerr := <-killed; kerr != nil {
			t.Fatal(kerr)
		}
		env.waitSidecar(t, ctx)
		st := env.waitIdle(t, ctx, svc, "")
		stopLoad(t, g, "v2")
		if st.LiveVersion != "v2" || st.LastResult != "failed" || !strings.Contains(st.LastError, "interrupted") || st.Health != contract.HealthHealthy {
			t.Errorf("status after restart = %+v", st)
		}
		if s := env.containerState(t, ctx, "sc-web-v4"); s != "exited" {
			t.Errorf("interrupted green sc-web-v4 is %s, want exited", s)
		}
		m := env.metrics(t, ctx)
		wantMetric(t, m, `kamal_reconciles_total{outcome="undone"}`, 1)
		wantMetric(t, m, `kamal_live_version_info{destination="",role="web",service="sc",version="v2"}`, 1)
	})

	t.Run("sidecar killed mid-swap after cutover", func(t *testing.T) {
		g := env.load(t, ctx, svc, "")
		d := env.appSpec(svc, "", "v4", "v4", nil)
		killed := make(chan error, 1)
		_, err := env.api.Apply(ctx, d, func(e contract.Event) {
			if e.Step == "cutover" && e.Status == contract.EventDone {
				killed <- env.h.KillProcess(ctx, "kamal-sidecar", "KILL")
			}
		})
		kerr := <-killed
		if kerr != nil {
			t.Fatal(kerr)
		}
		t.Logf("apply after kill: %v", err)
		env.waitSidecar(t, ctx)
		st := env.waitIdle(t, ctx, svc, "")
		env.serving(t, ctx, svc, "", "v4")
		stopLoad(t, g, "v2", "v4")
		if st.LiveVersion != "v4" || st.Health != contract.HealthHealthy {
			t.Errorf("status after restart = %+v", st)
		}
		if s := env.containerState(t, ctx, "sc-web-v2"); s != "exited" {
			t.Errorf("blue sc-web-v2 is %s, want exited", s)
		}
		m := env.metrics(t, ctx)
		wantMetric(t, m, `kamal_live_version_info{destination="",role="web",service="sc",version="v4"}`, 1)
	})

	t.Run("retention and prune per destination", func(t *testing.T) {
		const rt = "rt"
		deploy := func(dest, version string) {
			t.Helper()
			d := env.appSpec(rt, dest, version, "v1", map[string]string{"APP_VERSION": version})
			d.RetainContainers = 1
			if _, err := env.api.Apply(ctx, d, nil); err != nil {
				t.Fatalf("apply %s@%s: %v", version, dest, err)
			}
		}
		deploy("b", "r1")
		deploy("b", "r2")
		deploy("a", "r1")
		deploy("a", "r2")
		g := env.load(t, ctx, rt, "a")
		deploy("a", "r3")
		deploy("a", "r4")
		env.serving(t, ctx, rt, "a", "r4")
		stopLoad(t, g, "r2", "r3", "r4")
		versions := func(dest string) string {
			vs, err := env.api.Versions(ctx, contract.Role{Service: rt, Destination: dest, Role: "web"})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, v := range vs.Versions {
				s := v.Version + ":" + v.State
				if v.Live {
					s += ":live"
				}
				out = append(out, s)
			}
			return strings.Join(out, ",")
		}
		if got := versions("a"); got != "r4:running:live,r3:exited" {
			t.Errorf("destination a keeps %s; want r4 live and r3 retained (r1, r2 pruned)", got)
		}
		if got := versions("b"); got != "r2:running:live,r1:exited" {
			t.Errorf("destination b keeps %s; want r2 live and r1 retained (untouched by a's prune)", got)
		}
		for _, name := range []string{"rt-web-a-r1", "rt-web-a-r2"} {
			if s := env.containerState(t, ctx, name); s != "missing" {
				t.Errorf("%s is %s, want pruned", name, s)
			}
		}
		if st := env.roleStatus(t, ctx, rt, "b"); st.LiveVersion != "r2" || st.Health != contract.HealthHealthy {
			t.Errorf("status of b = %+v", st)
		}
		m := env.metrics(t, ctx)
		wantMetric(t, m, `kamal_live_version_info{destination="a",role="web",service="rt",version="r4"}`, 1)
		wantMetric(t, m, `kamal_live_version_info{destination="b",role="web",service="rt",version="r2"}`, 1)
	})

	t.Run("stop and start a role, reboot traefik", func(t *testing.T) {
		b := contract.RoleRequest{Role: contract.Role{Service: "rt", Destination: "b", Role: "web"}, Who: "e2e"}
		r, err := env.api.StopRole(ctx, b)
		if err != nil || r.Running || r.Version != "r2" {
			t.Fatalf("stop: %+v, %v", r, err)
		}
		if st := env.roleStatus(t, ctx, "rt", "b"); st.Health != contract.HealthStopped {
			t.Errorf("health after stop = %s", st.Health)
		}
		if _, ok := env.metrics(t, ctx)[`kamal_live_version_info{destination="b",role="web",service="rt",version="r2"}`]; ok {
			t.Errorf("stopped role still reported live")
		}
		if r, err = env.api.StartRole(ctx, b); err != nil || !r.Running {
			t.Fatalf("start: %+v, %v", r, err)
		}
		env.serving(t, ctx, "rt", "b", "r2")
		if st := env.roleStatus(t, ctx, "rt", "b"); st.Health != contract.HealthHealthy {
			t.Errorf("health after start = %s", st.Health)
		}

		before := env.containerID(t, ctx, "kamal-traefik")
		st, err := env.api.RebootTraefik(ctx, contract.TraefikRequest{Image: env.traefik, HTTPPort: 80, HTTPSPort: -1, Who: "e2e"})
		if err != nil || !st.Running {
			t.Fatalf("reboot traefik: %+v, %v", st, err)
		}
		if after := env.containerID(t, ctx, "kamal-traefik"); after == before {
			t.Errorf("reboot kept the same Traefik container %s", after)
		}
		env.serving(t, ctx, svc, "", "v4")
		env.serving(t, ctx, "rt", "a", "r4")
	})

	t.Run("no secret in state, audit complete", func(t *testing.T) {
		if out, err := env.h.Exec(ctx, "grep", "-rl", scSecret, contract.StateDir); err == nil {
			t.Errorf("secret value found in %s", out)
		}
		log, err := env.api.Audit(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, e := range log.Entries {
			count[e.Action]++
		}
		if count["deploy"] < 9 || count["rollback"] != 1 || count["traefik-boot"] != 1 || count["traefik-reboot"] != 1 ||
			count["reconcile"] < 2 || count["stop"] != 1 || count["start"] != 1 {
			t.Errorf("audit actions = %v", count)
		}
		if out, err := env.h.Exec(ctx, "stat", "-c", "%a", contract.SocketPath); err != nil || strings.TrimSpace(out) != "600" {
			t.Errorf("socket mode = %q, %v; want 600", out, err)
		}
	})
}

// waitIdle polls /v1/status until the role has no swap under way and a
// known health (after a restart, reconcile may still be running).
func (env *sidecarEnv) waitIdle(t *testing.T, ctx context.Context, service, dest string) contract.RoleStatus {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var st contract.RoleStatus
	for time.Now().Before(deadline) {
		var ready bool
		st, ready = env.roleStatus2(t, ctx, service, dest)
		if ready && st.InProgress == "" && st.Health == contract.HealthHealthy {
			return st
		}
		time.Sleep(200 * time.Millisecond) // poll interval, bounded by the deadline
	}
	t.Fatalf("role did not settle within 60s: %+v\nsidecar logs:\n%s", st, env.logs(ctx, "kamal-sidecar"))
	return st
}

// stepTimes collects each finished step's duration from progress events.
type stepTimes map[string]time.Duration

func (s stepTimes) add(e contract.Event) {
	if e.Status == contract.EventDone || e.Status == contract.EventFail {
		s[e.Step] = e.Elapsed.D()
	}
}

func (s stepTimes) String() string {
	var parts []string
	for _, step := range []string{"check-image", "rename-aside", "start-green", "start-retained", "wait-healthy", "cutover", "drain-blue", "stop-blue", "prune"} {
		if d, ok := s[step]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", step, d.Round(time.Millisecond)))
		}
	}
	return strings.Join(parts, ", ")
}

// lastVersionStart is when the load first saw the last version it saw.
func lastVersionStart(rep *loadgen.Report) time.Time {
	vs := rep.Summary.Versions
	if len(vs) == 0 {
		return time.Time{}
	}
	return vs[len(vs)-1].First
}

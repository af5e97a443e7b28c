package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// get asks a host's Traefik for the app and returns the version served.
func get(ctx context.Context, h *harness.Host) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+h.Addr.String()+"/", nil)
	if err != nil {
		return "", err
	}
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // the status and header are what matter
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.Header.Get("X-App-Version"), nil
}

// waitServing waits until every host answers 200 again, at most
// recoverTimeout in all.
func (s *soak) waitServing(ctx context.Context, r *CycleRun) {
	deadline := time.Now().Add(recoverTimeout)
	for _, h := range s.f.Hosts {
		var err error
		for {
			if _, err = get(ctx, h); err == nil || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			r.violate("%s does not serve %v after the cycle's fault was healed: %v", h.Name, recoverTimeout, err)
		}
	}
}

// settleTimeout bounds the wait for the hosts' sidecars to end what they
// were doing when the command ended.
const settleTimeout = 30 * time.Second

// waitSettled waits until every host's sidecar is ready with no swap of
// the app under way, at most settleTimeout in all: the sidecars of a killed
// plugin finish (or undo) the swaps they were in on their own, so what the
// command left is what they leave, not what a host served a moment after
// the plugin died. A host still busy at the deadline is left to the checks.
func (s *soak) waitSettled(ctx context.Context) {
	deadline := time.Now().Add(settleTimeout)
	for _, h := range s.f.Hosts {
		for !settled(ctx, h) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// settled reports whether h's sidecar answers its status, ready, with no
// swap of the app under way.
func settled(ctx context.Context, h *harness.Host) bool {
	out, err := h.Exec(ctx, "curl", "-sf", "-m", "2", "http://"+contract.DefaultMonitorAddr+contract.PathStatus)
	if err != nil {
		return false
	}
	var st contract.Status
	if json.Unmarshal([]byte(out), &st) != nil || !st.Ready {
		return false
	}
	for _, r := range st.Roles {
		if r.Service == Service && r.InProgress != "" {
			return false
		}
	}
	return true
}

// served is the version each host serves: the answer of 5 requests, "a|b"
// when they disagree, "down" when one fails.
func (s *soak) served(ctx context.Context) map[string]string {
	out := map[string]string{}
	for _, h := range s.f.Hosts {
		seen := map[string]bool{}
		var vs []string
		for range 5 {
			v, err := get(ctx, h)
			if err != nil {
				v = "down"
			}
			if !seen[v] {
				seen[v] = true
				vs = append(vs, v)
			}
		}
		out[h.Name] = strings.Join(vs, "|")
	}
	return out
}

// checkOutcome judges the command's outcome and the versions after it, and
// returns the version the fleet must converge on.
func (s *soak) checkOutcome(r *CycleRun, cmd *command, inj *injection) string {
	ok := r.Exit == 0 && cmd.Err == nil
	if ok {
		if r.Ran == OpNeverHealthy {
			r.violate("the never-healthy deploy of %s succeeded", r.Target)
		}
		for h, v := range r.After {
			if v != r.Target {
				r.violate("after the command succeeded %s serves %s, want %s", h, v, r.Target)
			}
		}
		return r.Target
	}
	if r.Fault == FaultNone && r.Ran != OpNeverHealthy {
		r.violate("%s failed without a fault (exit %d): %s", r.Ran, r.Exit, lastLine(cmd))
	}
	if r.Fault == FaultInterrupt && inj.landed {
		if r.Exit != 130 {
			r.violate("exit %d after Ctrl-C, want 130", r.Exit)
		}
		if !strings.Contains(cmd.output(), "CANCELLED") {
			r.violate("no CANCELLED line after Ctrl-C")
		}
	}
	// The hosts that stayed up: all but a host fault's.
	up := map[string]string{}
	for h, v := range r.After {
		if !r.Fault.HostFault() || h != s.f.Hosts[r.Host].Name {
			up[h] = v
		}
	}
	all := func(v string) bool {
		for _, x := range up {
			if x != v {
				return false
			}
		}
		return true
	}
	switch {
	case all(r.Old):
		return r.Old
	case (r.Fault.Interrupt() || r.Ran == OpRollback || allDeployed(cmd, s.f.Addrs(), r.Target)) && all(r.Target) && r.Ran != OpNeverHealthy:
		// Every host had switched before the interrupt; or a rollback
		// failed once all had switched (only a partial one is undone);
		// or what failed came after every host's swap (the lock release).
		return r.Target
	case r.Fault == FaultPluginKill && eachOf(up, r.Old, r.Target):
		return r.Old // the sidecars finished or undid their swaps alone
	}
	r.violate("after the failed %s the hosts that stayed up serve %s, want %s everywhere", r.Ran, versionsString(up), r.Old)
	return r.Old
}

// allDeployed reports whether the failed command's summary says every host
// was deployed and serves version.
func allDeployed(c *command, addrs []string, version string) bool {
	out := c.output()
	for _, a := range addrs {
		if !strings.Contains(out, a+"/web: deployed, serves "+version) {
			return false
		}
	}
	return true
}

func eachOf(m map[string]string, vs ...string) bool {
	for _, x := range m {
		ok := false
		for _, v := range vs {
			ok = ok || x == v
		}
		if !ok {
			return false
		}
	}
	return true
}

func lastLine(c *command) string {
	return strings.TrimSpace(c.tail(1))
}

// repair does what a user would after the cycle: release a lock left held,
// and deploy the expected version when the fleet does not serve it.
func (s *soak) repair(ctx context.Context, r *CycleRun, expected string) error {
	free, err := s.lockFree(ctx)
	if err != nil {
		return err
	}
	if !free {
		r.LockHeld = true
		if r.Fault == FaultNone || (r.Fault == FaultInterrupt && r.Exit == 130) {
			r.violate("the deploy lock is left held after %s with fault %s", r.Ran, r.Fault)
		}
		c, err := s.run(ctx, "lock", "release")
		if err != nil {
			return fmt.Errorf("%w: lock release: %w", errHarness, err)
		}
		if c.Exit != 0 {
			r.violate("lock release failed (exit %d): %s", c.Exit, lastLine(c))
		}
	}
	need := false
	for _, v := range r.After {
		need = need || v != expected
	}
	if !need {
		return nil
	}
	r.Converged = true
	for attempt := 1; attempt <= 2; attempt++ {
		c, err := s.run(ctx, "-v", "deploy", "--skip-push", "--version", expected)
		if err != nil {
			return fmt.Errorf("%w: converging deploy: %w", errHarness, err)
		}
		if c.Exit == 0 {
			return nil
		}
		r.violate("converging deploy of %s (attempt %d) failed (exit %d): %s", expected, attempt, c.Exit, lastLine(c))
	}
	return nil
}

// lockFree asks `lock status`, for up to 30 s while the primary host's
// sidecar is not answering (restarting after a fault).
func (s *soak) lockFree(ctx context.Context) (bool, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := s.run(ctx, "lock", "status")
		if err != nil {
			return false, fmt.Errorf("%w: lock status: %w", errHarness, err)
		}
		out := c.output()
		if strings.Contains(out, "There is no deploy lock") {
			return true, nil
		}
		if strings.Contains(out, "Locked by") {
			return false, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false, fmt.Errorf("%w: lock status (exit %d) said neither locked nor free: %s", errHarness, c.Exit, c.tail(5))
		}
		time.Sleep(time.Second)
	}
}

// hostContainers are one host's app containers by state.
type hostContainers struct {
	running, stopped []string // names
}

func (s *soak) containers(ctx context.Context) (map[string]hostContainers, error) {
	out := map[string]hostContainers{}
	for _, h := range s.f.Hosts {
		list, err := h.Docker(ctx, "ps", "-a", "--filter", "label=kamal.service="+Service, "--format", "{{.State}} {{.Names}}")
		if err != nil {
			return nil, fmt.Errorf("%w: list containers on %s: %w", errHarness, h.Name, err)
		}
		var hc hostContainers
		for _, ln := range strings.Split(strings.TrimSpace(list), "\n") {
			f := strings.Fields(ln)
			if len(f) != 2 {
				continue
			}
			if f[0] == "running" || f[0] == "restarting" {
				hc.running = append(hc.running, f[1])
			} else {
				hc.stopped = append(hc.stopped, f[1])
			}
		}
		out[h.Name] = hc
	}
	return out, nil
}

// checkFinal checks the invariants after the repair: one version
// fleet-wide (the expected one), the lock free, retention kept.
func (s *soak) checkFinal(ctx context.Context, r *CycleRun, expected string) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		r.Final = s.served(ctx)
		done := true
		for _, v := range r.Final {
			done = done && v == expected
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for h, v := range r.Final {
		if v != expected {
			r.violate("after the repair %s serves %s, want %s fleet-wide", h, v, expected)
		}
	}
	if free, err := s.lockFree(ctx); err != nil || !free {
		r.violate("the deploy lock is not free after the repair (%v)", err)
	}
	cs, err := s.containers(ctx)
	if err != nil {
		r.violate("%v", err)
		return
	}
	for h, c := range cs {
		// The serving one, and the one it replaced kept warm (sidecar.keep_warm).
		if len(c.running) < 1 || len(c.running) > 2 {
			r.violate("%s runs %d app containers (%s), want the serving one and at most one kept warm", h, len(c.running), strings.Join(c.running, ", "))
		}
		if len(c.stopped) > Retain {
			r.violate("%s keeps %d stopped containers (%s), beyond retain_containers %d", h, len(c.stopped), strings.Join(c.stopped, ", "), Retain)
		}
	}
}

// tally counts each host's requests; a host fault's window is left out.
func (s *soak) tally(r *CycleRun, reports []*loadgen.Report, inj *injection, start time.Time) {
	for i, rep := range reports {
		h := s.f.Hosts[i]
		var w *Window
		if inj.fault.HostFault() && inj.host == h && !inj.at.IsZero() {
			w = &Window{From: inj.at, To: WindowEnd(rep.Results, inj.healed)}
			if w.To.IsZero() {
				r.violate("%s never served a request after the %s was healed", h.Name, inj.fault)
			} else {
				r.HealedAt = w.To.Sub(start).Seconds()
			}
		}
		t := Count(rep.Results, w)
		r.Tally[h.Name] = t
		if t.Failed > 0 {
			r.violate("%d failed requests on %s (up): %s", t.Failed, h.Name, strings.Join(t.FirstErrors, ", "))
		}
	}
}

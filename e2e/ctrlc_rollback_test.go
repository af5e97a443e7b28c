package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// TestCtrlCRollbackInDrain interrupts a rollback (all hosts at once) while
// the second host's swap drains, after its cutover (a slow request to the
// version it replaces holds the drain open), and the third host's has not
// switched yet (its warm container was stopped, so the rollback starts it
// again). The second host's sidecar, winding down the cut-short swap, may
// still report the version it left, yet it switched; the third may be in
// its cutover, switched while its journal said otherwise. The fleet must
// end on one version (the chaos soak's cycle 36 left one host on the
// rollback's target; so did this test, with the third host's cutover cut
// short).
func TestCtrlCRollbackInDrain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	a, hosts := startCtrlCApp(t, ctx)
	version := fmt.Sprintf("ctrlcrb-%x", time.Now().UnixNano()&0xffffff)
	ctrlcVariant(t, ctx, version, "", "")
	a.kamal("deploy", "--skip-push", "--version", version).must(t)
	if _, err := hosts[2].Docker(ctx, "stop", "kamal-intr-web-v1"); err != nil {
		t.Fatal(err)
	}
	h2, h3 := hosts[1].Addr.String(), hosts[2].Addr.String()
	slowRes := startSlowGet(ctx, "http://"+h2+"/sleep?ms=20000")
	b := a.start(t, "-v", "rollback", "v1")
	b.waitLine(t, "["+h2+"] web drain-blue: start", 2*time.Minute)
	b.waitLine(t, "["+h3+"] web wait-healthy: start", time.Minute)
	if err := syscall.Kill(-b.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := b.wait(t, 2*time.Minute)
	t.Logf("request in flight across the drain: %s", <-slowRes)
	out := b.out.String()
	if at, ok := b.out.first("[" + h3 + "] web cutover: done"); ok {
		if got, _ := b.out.first("interrupt again to exit at once"); !got.Before(at) {
			t.Logf("%s had switched when the interrupt came", h3)
		}
	}
	if code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130:\n%s", code, out)
	}
	if !strings.Contains(out, "CANCELLED") {
		t.Errorf("no CANCELLED line after Ctrl-C:\n%s", out)
	}
	if st := a.kamal("lock", "status").must(t); !strings.Contains(st.out, "There is no deploy lock") {
		t.Errorf("the lock is held after Ctrl-C:\n%s", st.out)
	}
	// One version fleet-wide: the one every host served before, or, when
	// the interrupt came once the third host's cutover had begun too (all
	// switched), the rollback's target.
	want := version
	if v := servedBy(t, ctx, a.fleet, hosts[2]); v == "v1" {
		want = "v1"
	}
	t.Logf("every host must serve %s", want)
	for _, h := range hosts {
		servesOnly(t, ctx, a.fleet, h, want)
	}
	if t.Failed() {
		t.Logf("rollback output:\n%s", out)
	}
}

// servedBy is the version h's Traefik answers with.
func servedBy(t *testing.T, ctx context.Context, f *harness.Fleet, h *harness.Host) string {
	t.Helper()
	rep, err := loadgen.Run(ctx, loadgen.Config{URL: "http://" + h.Addr.String() + "/", Count: 1, Rate: 10, Allow: []netip.Prefix{f.Subnet}})
	if err != nil || len(rep.Results) == 0 {
		t.Fatalf("request to %s: %v", h.Name, err)
	}
	return rep.Results[0].Version
}

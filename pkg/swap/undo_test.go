package swap

import (
	"context"
	"errors"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// routeBackFails fails every Route to the given address: the route back to
// blue after a failed cutover.
type routeBackFails struct {
	*fakeRouter
	blueAddr string
}

func (r routeBackFails) Route(ctx context.Context, d *contract.Deploy, s []Server) error {
	if len(s) == 1 && s[0].Address == r.blueAddr {
		return errors.New("traefik file write failed")
	}
	return r.fakeRouter.Route(ctx, d, s)
}

// A failed route back must not be followed by stopping green: the proxy
// would then point at a stopped container.
func TestFailedRouteBackKeepsGreenRunning(t *testing.T) {
	h := newHarness(t)
	blue := h.withBlue()
	h.engine.Router = routeBackFails{fakeRouter: h.router, blueAddr: blue.IPs["kamal"] + ":3000"}
	h.router.failOnce["Confirm"] = errors.New("traefik did not pick it up")
	_, err := h.engine.Deploy(context.Background(), testDeploy("v2"), h.emit)
	if !errors.Is(err, ErrGreenStillRouted) {
		t.Fatalf("err %v, want ErrGreenStillRouted", err)
	}
	if green := h.docker.byName("app-web-v2"); green == nil || green.State != docker.StateRunning {
		t.Fatalf("states %v: green must keep running while routed", h.docker.states())
	}
	h.assertServing(t)
}

// cancelInRoute is a Ctrl-C arriving while the cutover's route call runs:
// the call cancels the swap, then fails, as a route write honouring its
// ctx would, when its ctx is done.
type cancelInRoute struct {
	*fakeRouter
	cancel context.CancelFunc
}

func (r cancelInRoute) Route(ctx context.Context, d *contract.Deploy, s []Server) error {
	r.cancel()
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.fakeRouter.Route(ctx, d, s)
}

// A cancel during the cutover's route call does not cut it short: a
// cancelled swap leaves the route as it is, so the sidecar counts green as
// live once cutover began, and the route must then be green's for sure.
func TestCancelDuringCutoverRouteStillRoutesGreen(t *testing.T) {
	h := newHarness(t)
	h.withBlue()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.engine.Router = cancelInRoute{fakeRouter: h.router, cancel: cancel}
	h.engine.Prober = proberFunc(func(context.Context, *contract.Deploy, docker.Container) error { return nil })
	_, err := h.engine.Deploy(ctx, testDeploy("v2"), h.emit)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !h.router.routedNow() {
		t.Errorf("route %v after a cancel in the cutover's route call, want green's (calls %v)", h.router.live, h.router.calls)
	}
	if green := h.docker.byName("app-web-v2"); green == nil || green.State != docker.StateRunning {
		t.Errorf("states %v: green must run while routed", h.docker.states())
	}
}

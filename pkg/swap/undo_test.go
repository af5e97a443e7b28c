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

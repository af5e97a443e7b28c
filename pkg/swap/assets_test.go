package swap

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// fakeAssets records the bridge calls in order, as "prepare v2<-v1" and
// "prune v2".
type fakeAssets struct {
	calls []string
	fail  error
}

func (f *fakeAssets) Prepare(_ context.Context, d *contract.Deploy, previous string) (string, error) {
	f.calls = append(f.calls, "prepare "+d.Version+"<-"+previous)
	if f.fail != nil {
		return "", f.fail
	}
	return "/var/lib/kamal/assets/app/volumes/web/" + d.Version, nil
}

func (f *fakeAssets) Prune(d *contract.Deploy, keep ...string) error {
	f.calls = append(f.calls, strings.Join(append([]string{"prune " + d.Version}, keep...), "+"))
	return nil
}

func withAssets(d *contract.Deploy) *contract.Deploy {
	d.Assets = &contract.Assets{Path: "/rails/public/assets"}
	return d
}

func TestDeployBridgesAssets(t *testing.T) {
	h := newHarness(t)
	fa := &fakeAssets{}
	h.engine.Assets = fa
	v1 := withAssets(testDeploy("v1"))
	v1.ApplyDefaults()
	blue := h.docker.add(v1, "app-web-v1", docker.StateRunning)
	h.router.live = []Server{{Container: blue.Name, Address: blue.IPs["kamal"] + ":3000"}}

	res, err := h.engine.Deploy(context.Background(), withAssets(testDeploy("v2")), h.emit)
	if err != nil {
		t.Fatal(err)
	}
	wantPlan := []string{"check-image", "prepare-assets", "start-green", "wait-healthy", "cutover", "drain-blue", "stop-blue", "prune-assets", "prune"}
	if got := res.Plan.Names(); !slices.Equal(got, wantPlan) {
		t.Fatalf("plan %v, want %v", got, wantPlan)
	}
	if want := []string{"prepare v2<-v1", "prune v2"}; !slices.Equal(fa.calls, want) {
		t.Errorf("bridge calls %v, want %v", fa.calls, want)
	}
	green := h.docker.byName("app-web-v2")
	spec := h.docker.specs[green.ID]
	if !slices.Contains(spec.Volumes, "/var/lib/kamal/assets/app/volumes/web/v2:/rails/public/assets") {
		t.Errorf("green mounts %v, want its bridged asset directory", spec.Volumes)
	}
}

func TestRollbackBridgesAssetsBack(t *testing.T) {
	h := newHarness(t)
	fa := &fakeAssets{}
	h.engine.Assets = fa
	v1 := withAssets(testDeploy("v1"))
	v1.ApplyDefaults()
	h.docker.add(v1, "app-web-v1", docker.StateExited)
	v2 := withAssets(testDeploy("v2"))
	v2.ApplyDefaults()
	cur := h.docker.add(v2, "app-web-v2", docker.StateRunning)
	h.router.live = []Server{{Container: cur.Name, Address: cur.IPs["kamal"] + ":3000"}}

	res, err := h.engine.Rollback(context.Background(), contract.Role{Service: "app", Role: "web"}, "v1", h.emit)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Plan.Names(); !slices.Equal(got, []string{"prepare-assets", "start-retained", "wait-healthy", "cutover", "drain-blue", "stop-blue", "prune-assets"}) {
		t.Fatalf("plan %v", got)
	}
	// v1's pruned directory comes back, with v2's assets merged in.
	if want := []string{"prepare v1<-v2", "prune v1"}; !slices.Equal(fa.calls, want) {
		t.Errorf("bridge calls %v, want %v", fa.calls, want)
	}
}

func TestAssetFailureLeavesBlueServing(t *testing.T) {
	h := newHarness(t)
	errExtract := errors.New("extract failed")
	h.engine.Assets = &fakeAssets{fail: errExtract}
	v1 := withAssets(testDeploy("v1"))
	v1.ApplyDefaults()
	blue := h.docker.add(v1, "app-web-v1", docker.StateRunning)
	h.router.live = []Server{{Container: blue.Name, Address: blue.IPs["kamal"] + ":3000"}}

	_, err := h.engine.Deploy(context.Background(), withAssets(testDeploy("v2")), h.emit)
	var se *StepError
	if !errors.As(err, &se) || se.Step != StepPrepareAssets || !errors.Is(err, errExtract) {
		t.Fatalf("err %v, want a prepare-assets StepError wrapping the cause", err)
	}
	if h.docker.byName("app-web-v2") != nil || blue.State != docker.StateRunning {
		t.Errorf("states %v: green must not start, blue must keep serving", h.docker.states())
	}
	h.assertServing(t)
}

func TestAssetsNeedABridge(t *testing.T) {
	h := newHarness(t)
	_, err := h.engine.Deploy(context.Background(), withAssets(testDeploy("v2")), h.emit)
	if !errors.Is(err, ErrNoAssetBridge) {
		t.Fatalf("err %v, want ErrNoAssetBridge", err)
	}
}

func TestPrepareAssetsAheadOfDeploy(t *testing.T) {
	h := newHarness(t)
	fa := &fakeAssets{}
	h.engine.Assets = fa
	v1 := withAssets(testDeploy("v1"))
	v1.ApplyDefaults()
	blue := h.docker.add(v1, "app-web-v1", docker.StateRunning)
	h.router.live = []Server{{Container: blue.Name, Address: blue.IPs["kamal"] + ":3000"}}
	before := h.docker.states()

	req := contract.AssetsRequest{Role: contract.Role{Service: "app", Role: "web"}, Version: "v2",
		Image: "app:v2", Assets: &contract.Assets{Path: "/rails/public/assets"}}
	resp, err := h.engine.PrepareAssets(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Merged != "v1" || resp.Dir == "" {
		t.Errorf("response %+v, want v2's directory merged with v1", resp)
	}
	if want := []string{"prepare v2<-v1"}; !slices.Equal(fa.calls, want) {
		t.Errorf("bridge calls %v, want %v", fa.calls, want)
	}
	if after := h.docker.states(); !maps.Equal(before, after) {
		t.Errorf("containers changed from %v to %v; preparing assets must touch only directories", before, after)
	}
}

func TestPrepareAssetsForRollbackUsesRetainedSpec(t *testing.T) {
	h := newHarness(t)
	fa := &fakeAssets{}
	h.engine.Assets = fa
	v1 := withAssets(testDeploy("v1"))
	v1.ApplyDefaults()
	h.docker.add(v1, "app-web-v1", docker.StateExited)
	v2 := withAssets(testDeploy("v2"))
	v2.ApplyDefaults()
	h.docker.add(v2, "app-web-v2", docker.StateRunning)
	role := contract.Role{Service: "app", Role: "web"}

	if _, err := h.engine.PrepareAssets(context.Background(), contract.AssetsRequest{Role: role, Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"prepare v1<-v2"}; !slices.Equal(fa.calls, want) {
		t.Errorf("bridge calls %v, want %v", fa.calls, want)
	}
	_, err := h.engine.PrepareAssets(context.Background(), contract.AssetsRequest{Role: role, Version: "v0"})
	if !errors.Is(err, ErrNotRetained) {
		t.Errorf("prepare of a version not retained: %v, want ErrNotRetained", err)
	}
}

func TestPrepareAssetsWithoutAssetPathDoesNothing(t *testing.T) {
	h := newHarness(t)
	fa := &fakeAssets{}
	h.engine.Assets = fa
	v1 := testDeploy("v1")
	v1.ApplyDefaults()
	h.docker.add(v1, "app-web-v1", docker.StateExited)
	resp, err := h.engine.PrepareAssets(context.Background(), contract.AssetsRequest{Role: contract.Role{Service: "app", Role: "web"}, Version: "v1"})
	if err != nil || resp.Dir != "" || len(fa.calls) != 0 {
		t.Errorf("got %+v, %v, calls %v; want nothing prepared", resp, err, fa.calls)
	}
}

// A container kept warm still mounts its version's asset directory; pruning
// it would 404 every asset its pages link the moment a rollback routes back.
func TestWarmContainerKeepsItsAssets(t *testing.T) {
	h := newHarness(t)
	fa := &fakeAssets{}
	h.engine.Assets = fa
	h.engine.Warm = &fakeWarm{until: map[string]time.Time{}}
	v1 := withAssets(testDeploy("v1"))
	v1.ApplyDefaults()
	blue := h.docker.add(v1, "app-web-v1", docker.StateRunning)
	h.router.live = []Server{{Container: blue.Name, Address: blue.IPs["kamal"] + ":3000"}}

	d := withAssets(testDeploy("v2"))
	d.KeepWarm = contract.Duration(3 * time.Minute)
	if _, err := h.engine.Deploy(context.Background(), d, h.emit); err != nil {
		t.Fatal(err)
	}
	if want := []string{"prepare v2<-v1", "prune v2+v1"}; !slices.Equal(fa.calls, want) {
		t.Errorf("bridge calls %v, want %v (v1 is warm: its assets stay)", fa.calls, want)
	}
}

package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/hooks"
	"github.com/dockerkamal/docker-kamal/pkg/output"
)

// recorder is every fake at once; calls land in one log so order is visible.
type recorder struct {
	log      []string
	failAt   string
	live     map[fleet.Target]string
	deployed string
}

// errBroke is the failure of the recorder's failAt step.
var errBroke = errors.New("broke")

func (r *recorder) step(name string) error {
	r.log = append(r.log, name)
	if r.failAt == name {
		return fmt.Errorf("%s: %w", name, errBroke)
	}
	return nil
}

func (r *recorder) Acquire(context.Context, string, string) error { return r.step("lock") }
func (r *recorder) Release(context.Context) error                 { return r.step("unlock") }
func (r *recorder) Build(_ context.Context, v string) (string, error) {
	return "app:" + v, r.step("build")
}
func (r *recorder) Ship(context.Context, string) error { return r.step("ship") }
func (r *recorder) Migrate(context.Context, string, string) error {
	return r.step("migrate")
}
func (r *recorder) Prepare(context.Context, string) error { return r.step("assets") }
func (r *recorder) Audit(_ context.Context, action, _, result string) error {
	r.log = append(r.log, "audit "+action+" "+strings.SplitN(result, ":", 2)[0])
	return nil
}
func (r *recorder) Run(_ context.Context, name string, _ hooks.Env) (bool, error) {
	return true, r.step("hook " + name)
}
func (r *recorder) Deploy(_ context.Context, t fleet.Target) error {
	if err := r.step("swap " + t.String()); err != nil {
		return err
	}
	r.live[t] = r.deployed
	return nil
}
func (r *recorder) Rollback(_ context.Context, t fleet.Target, v string) error {
	r.live[t] = v
	return r.step("rollback " + t.String())
}
func (r *recorder) LiveVersion(_ context.Context, t fleet.Target) (string, error) {
	return r.live[t], nil
}

func steps(r *recorder) Steps {
	t := fleet.Target{Host: "h1", Role: "web"}
	var buf bytes.Buffer
	return Steps{
		Lock: r, Build: r, Ship: r, Hooks: r, Assets: r, Migrate: r, Audit: r,
		Fleet: &fleet.Runner{Deployer: r},
		Plan:  fleet.NewPlan(fleet.PlanOptions{Targets: []fleet.Target{t}, Primary: t}),
		Out:   output.New(&buf, &buf, output.Normal, nil),
	}
}

func TestOrder(t *testing.T) {
	r := &recorder{live: map[fleet.Target]string{}, deployed: "v2"}
	if _, err := Run(context.Background(), steps(r), "v2"); err != nil {
		t.Fatal(err)
	}
	want := "lock,hook pre-build,build,ship,hook pre-deploy,assets,migrate,swap h1/web,hook post-deploy,audit deploy success,unlock"
	if got := strings.Join(r.log, ","); got != want {
		t.Fatalf("order\n got %s\nwant %s", got, want)
	}
}

func TestEarlyFailuresStopAndUnlock(t *testing.T) {
	for _, tt := range []struct{ failAt, want string }{
		{"lock", "lock"},
		{"build", "lock,hook pre-build,build,audit deploy failed,unlock"},
		{"ship", "lock,hook pre-build,build,ship,audit deploy failed,unlock"},
		{"hook pre-deploy", "lock,hook pre-build,build,ship,hook pre-deploy,audit deploy failed,unlock"},
		{"assets", "lock,hook pre-build,build,ship,hook pre-deploy,assets,audit deploy failed,unlock"},
		{"migrate", "lock,hook pre-build,build,ship,hook pre-deploy,assets,migrate,audit deploy failed,unlock"},
	} {
		t.Run(tt.failAt, func(t *testing.T) {
			r := &recorder{live: map[fleet.Target]string{}, failAt: tt.failAt}
			_, err := Run(context.Background(), steps(r), "v2")
			if !errors.Is(err, errBroke) || !strings.Contains(err.Error(), tt.failAt+": ") {
				t.Fatalf("err %v", err)
			}
			if got := strings.Join(r.log, ","); got != tt.want {
				t.Fatalf("calls\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestMigrationFailureSwapsNothing(t *testing.T) {
	r := &recorder{live: map[fleet.Target]string{{Host: "h1", Role: "web"}: "v1"}, failAt: "migrate", deployed: "v2"}
	_, err := Run(context.Background(), steps(r), "v2")
	if !errors.Is(err, errBroke) || !strings.Contains(err.Error(), "nothing was swapped") {
		t.Fatalf("err %v", err)
	}
	if v := r.live[fleet.Target{Host: "h1", Role: "web"}]; v != "v1" {
		t.Fatalf("live version %s after failed migration", v)
	}
}

func TestReleaseFailureJoinsTheResult(t *testing.T) {
	r := &recorder{live: map[fleet.Target]string{}, deployed: "v2", failAt: "unlock"}
	_, err := Run(context.Background(), steps(r), "v2")
	if !errors.Is(err, errBroke) || !strings.Contains(err.Error(), "release deploy lock") {
		t.Fatalf("err %v", err)
	}
	// The audit ran before the release and saw a success.
	if got := strings.Join(r.log, ","); !strings.HasSuffix(got, "audit deploy success,unlock") {
		t.Fatalf("calls %s", got)
	}
}

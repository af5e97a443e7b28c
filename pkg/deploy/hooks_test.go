package deploy

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/hooks"
)

// envRecorder is a recorder whose hooks also keep the variables they got.
type envRecorder struct {
	*recorder
	envs map[string]hooks.Env
}

func (r *envRecorder) Run(ctx context.Context, name string, env hooks.Env) (bool, error) {
	r.envs[name] = env
	return r.recorder.Run(ctx, name, env)
}

type preparer struct{ r *recorder }

func (p preparer) Prepare(context.Context) error { return p.r.step("prepare") }

type bootHooks struct{ r *recorder }

func (b bootHooks) BeforeBoot(context.Context, []string) error { return b.r.step("hook pre-app-boot") }
func (b bootHooks) AfterBoot(context.Context, []string) error  { return b.r.step("hook post-app-boot") }

// Kamal's moments within a deploy: pre-build before the build (no
// secrets), pre-deploy after the ship and before the hosts are readied
// (setup's proxy and accessories), the app-boot hooks around the swap,
// post-deploy last with the runtime; all under the lock (KAMAL_LOCK=true).
func TestHookMoments(t *testing.T) {
	r := &recorder{live: map[fleet.Target]string{}, deployed: "v2"}
	er := &envRecorder{recorder: r, envs: map[string]hooks.Env{}}
	s := steps(r)
	s.Hooks, s.Prepare = er, preparer{r}
	s.Fleet.Hooks = bootHooks{r}
	s.HookEnv = hooks.Env{Service: "app", Secrets: map[string]string{"TOKEN": "t0ken"}}
	if _, err := Run(context.Background(), s, "v2"); err != nil {
		t.Fatal(err)
	}
	want := []string{"lock", "hook pre-build", "build", "ship", "hook pre-deploy", "prepare", "assets", "migrate",
		"hook pre-app-boot", "swap h1/web", "hook post-app-boot", "hook post-deploy", "audit deploy success", "unlock"}
	if !slices.Equal(r.log, want) {
		t.Fatalf("order\n%q\nwant\n%q", r.log, want)
	}
	if er.envs["pre-build"].Secrets != nil {
		t.Errorf("pre-build got the secrets; Kamal gives them only to pre-connect, pre-deploy and post-deploy")
	}
	for _, name := range []string{"pre-deploy", "post-deploy"} {
		e := er.envs[name]
		if e.Secrets["TOKEN"] != "t0ken" || e.Lock != "true" || e.Version != "v2" || e.Command != "deploy" {
			t.Errorf("%s env: secrets=%v lock=%q version=%q command=%q", name, e.Secrets != nil, e.Lock, e.Version, e.Command)
		}
	}
	if er.envs["pre-deploy"].Runtime != 0 || er.envs["post-deploy"].Runtime <= 0 {
		t.Errorf("runtime: pre-deploy %v, post-deploy %v; want it on post-deploy only", er.envs["pre-deploy"].Runtime, er.envs["post-deploy"].Runtime)
	}
}

// A failing pre-deploy aborts before anything on the hosts changes, and
// its error names the hook.
func TestPreDeployFailureAborts(t *testing.T) {
	r := &recorder{live: map[fleet.Target]string{}, deployed: "v2", failAt: "hook pre-deploy"}
	s := steps(r)
	s.Prepare = preparer{r}
	_, err := Run(context.Background(), s, "v2")
	if !errors.Is(err, errBroke) {
		t.Fatalf("got %v", err)
	}
	for _, never := range []string{"prepare", "migrate", "swap h1/web", "hook post-deploy"} {
		if slices.Contains(r.log, never) {
			t.Errorf("%s ran after pre-deploy failed: %q", never, r.log)
		}
	}
}

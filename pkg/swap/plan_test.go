package swap

import (
	"errors"
	"slices"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

func running(name string) docker.Container {
	return docker.Container{ID: "id-" + name, Name: name, State: docker.StateRunning,
		Labels: map[string]string{contract.LabelService: "app"}}
}

func TestPlanDeploy(t *testing.T) {
	job := testDeploy("v2")
	job.Role, job.Proxy = "job", nil
	job.Healthcheck = contract.Healthcheck{Kind: contract.HealthRunning}
	tests := []struct {
		name    string
		d       *contract.Deploy
		current []docker.Container
		want    []string
		wantErr error
	}{
		{"first deploy", testDeploy("v2"), nil,
			[]string{"check-image", "start-green", "wait-healthy", "cutover", "prune"}, nil},
		{"replace blue", testDeploy("v2"), []docker.Container{running("app-web-v1")},
			[]string{"check-image", "start-green", "wait-healthy", "cutover", "drain-blue", "stop-blue", "prune"}, nil},
		{"redeploy same version", testDeploy("v2"), []docker.Container{running("app-web-v2")},
			[]string{"check-image", "rename-aside", "start-green", "wait-healthy", "cutover", "drain-blue", "stop-blue", "prune"}, nil},
		{"stopped same version is renamed but not stopped", testDeploy("v2"),
			[]docker.Container{{ID: "x", Name: "app-web-v2", State: docker.StateExited, Labels: map[string]string{contract.LabelService: "app"}}},
			[]string{"check-image", "rename-aside", "start-green", "wait-healthy", "cutover", "prune"}, nil},
		{"no proxy", job, []docker.Container{running("app-job-v1")},
			[]string{"check-image", "start-green", "wait-healthy", "stop-blue", "prune"}, nil},
		{"name taken by a stranger", testDeploy("v2"), []docker.Container{{ID: "x", Name: "app-web-v2", State: docker.StateRunning}},
			nil, ErrNameTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := *tt.d
			d.ApplyDefaults()
			p, err := PlanDeploy(&d, tt.current, "aside")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Names(); !slices.Equal(got, tt.want) {
				t.Errorf("steps\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestPlanString(t *testing.T) {
	d := testDeploy("v2")
	d.Destination = "staging"
	d.ImageID = "sha256:abc"
	d.ApplyDefaults()
	p, err := PlanDeploy(d, []docker.Container{running("app-web-staging-v1"), running("app-web-staging-v2")}, "app-web-staging-v2_replaced_0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	want := `deploy app/web -d staging version v2
1. check-image: app:v2 (sha256:abc)
2. rename-aside: app-web-staging-v2 -> app-web-staging-v2_replaced_0123456789abcdef
3. start-green: app-web-staging-v2 on network kamal
4. wait-healthy: http GET :3000/up within 30s
5. cutover: route app.example.com to app-web-staging-v2
6. drain-blue: app-web-staging-v1, app-web-staging-v2 within 30s
7. stop-blue: app-web-staging-v1, app-web-staging-v2 with stop timeout 30s
8. prune: keep newest 5 stopped
`
	if got := p.String(); got != want {
		t.Errorf("plan\n%s\nwant\n%s", got, want)
	}
	r := PlanRollback(d, docker.Container{ID: "r", Name: "app-web-staging-v0", State: docker.StateExited}, []docker.Container{running("app-web-staging-v2")})
	wantR := `rollback app/web -d staging version v2
1. start-retained: app-web-staging-v0
2. wait-healthy: http GET :3000/up within 30s
3. cutover: route app.example.com to app-web-staging-v0
4. drain-blue: app-web-staging-v2 within 30s
5. stop-blue: app-web-staging-v2 with stop timeout 30s
`
	if got := r.String(); got != wantR {
		t.Errorf("rollback plan\n%s\nwant\n%s", got, wantR)
	}
}

func TestPruneCandidates(t *testing.T) {
	mk := func(name, state string, finished int) docker.Container {
		c := docker.Container{ID: name, Name: name, State: state}
		c.FinishedAt = c.FinishedAt.AddDate(2026, 0, finished)
		return c
	}
	cs := []docker.Container{
		mk("a", docker.StateExited, 1), mk("b", docker.StateExited, 5), mk("live", docker.StateRunning, 0),
		mk("c", docker.StateExited, 3), mk("d", docker.StateCreated, 0), mk("e", docker.StateExited, 4),
	}
	var got []string
	for _, c := range PruneCandidates(cs, 2, "e") {
		got = append(got, c.Name)
	}
	if want := []string{"a", "d"}; !slices.Equal(got, want) {
		t.Errorf("pruned %v, want %v", got, want)
	}
	if len(PruneCandidates(cs, 10)) != 0 {
		t.Error("nothing to prune under the limit")
	}
}

package fleet

import "testing"

func TestNewPlan(t *testing.T) {
	web1, web2, web3 := Target{"h1", "web"}, Target{"h2", "web"}, Target{"h3", "web"}
	job1, job3 := Target{"h1", "job"}, Target{"h3", "job"}
	all := []Target{web1, web2, web3, job1, job3}
	tests := []struct {
		name string
		opts PlanOptions
		want string
	}{
		{"all at once, roles parallel", PlanOptions{Targets: all, Primary: web1, ParallelRoles: true},
			"1. primary h1/web: h1/web\n2. batch 1: h2/web, h3/web, h3/job, h1/job\n"},
		{"limit 1, roles parallel", PlanOptions{Targets: all, Primary: web1, Limit: 1, ParallelRoles: true},
			"1. primary h1/web: h1/web\n2. batch 1: h2/web\n3. batch 2 (after boot.wait): h3/web, h3/job\n4. batch 3 (after boot.wait): h1/job\n"},
		{"limit 2, roles sequential", PlanOptions{Targets: all, Primary: web1, Limit: 2},
			"1. primary h1/web: h1/web\n2. batch 1 role web: h2/web, h3/web\n3. batch 1 role job: h3/job\n4. batch 2 role job (after boot.wait): h1/job\n"},
		{"roles sequential on a host, not across hosts", PlanOptions{Targets: []Target{job3, web1, web2}, Primary: web1},
			"1. primary h1/web: h1/web\n2. batch 1 roles job, web: h3/job, h2/web\n"},
		{"no primary", PlanOptions{Targets: []Target{job1, job3}, ParallelRoles: true},
			"1. batch 1: h1/job, h3/job\n"},
		{"single target", PlanOptions{Targets: []Target{web1}, Primary: web1},
			"1. primary h1/web: h1/web\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPlan(tt.opts)
			if got := p.String(); got != tt.want {
				t.Fatalf("plan\n got:\n%s\nwant:\n%s", got, tt.want)
			}
			if n := len(p.Targets()); n != len(tt.opts.Targets) {
				t.Fatalf("plan has %d targets, want %d", n, len(tt.opts.Targets))
			}
		})
	}
}

func TestAllAtOnce(t *testing.T) {
	ts := []Target{{"h1", "web"}, {"h2", "web"}, {"h3", "job"}}
	p := AllAtOnce(ts)
	if got, want := p.String(), "1. all hosts: h1/web, h2/web, h3/job\n"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if len(AllAtOnce(nil).Stages) != 0 {
		t.Fatal("empty plan has stages")
	}
}

// Package fleet orders a deploy or rollback across hosts: the primary role on
// the primary host first, then the other hosts in batches, and when any host
// fails, every host already switched goes back to its previous version so the
// fleet never stays mixed. It decides what runs where and when; each host's
// sidecar decides how (see pkg/swap).
package fleet

import (
	"fmt"
	"strings"
)

// Target is one role on one host: the unit a sidecar swaps.
type Target struct {
	Host string
	Role string
}

func (t Target) String() string { return t.Host + "/" + t.Role }

// Stage is a set of targets that run concurrently.
type Stage struct {
	Name    string
	Targets []Target
	// WaitBefore is true when boot.wait applies before this stage starts.
	WaitBefore bool
	// Group numbers the boot group (a batch of hosts, Kamal's host boot
	// group) the stage belongs to; consecutive stages of one group share
	// it, and the hooks around app boot run once per group.
	Group int
}

// Plan is the ordered list of stages of a fleet operation. It is computed
// before anything runs, so it can be printed and tested.
type Plan struct {
	Stages []Stage
}

// PlanOptions shape a plan.
type PlanOptions struct {
	// Targets in config order (roles in order, hosts in order within a role).
	Targets []Target
	// Primary is the primary role on the primary host; it goes first, alone.
	// Zero value: no primary stage.
	Primary Target
	// Limit is how many hosts boot at once after the primary; 0 = all.
	Limit int
	// ParallelRoles runs a host's roles concurrently within a batch;
	// without it a host's roles go one after another (other hosts' roles
	// run meanwhile).
	ParallelRoles bool
}

// NewPlan orders targets: primary first, then batches of Limit hosts.
func NewPlan(o PlanOptions) Plan {
	var p Plan
	var rest []Target
	for _, t := range o.Targets {
		if t == o.Primary {
			// The primary boots within the first group, as in Kamal, where
			// it is simply the first host of the first group.
			p.Stages = append(p.Stages, Stage{Name: "primary " + t.String(), Targets: []Target{t}, Group: 1})
			continue
		}
		rest = append(rest, t)
	}
	var hosts []string
	byHost := map[string][]Target{}
	for _, t := range rest {
		if _, seen := byHost[t.Host]; !seen {
			hosts = append(hosts, t.Host)
		}
		byHost[t.Host] = append(byHost[t.Host], t)
	}
	limit := o.Limit
	if limit <= 0 || limit > len(hosts) {
		limit = len(hosts)
	}
	batch := 0
	for start := 0; start < len(hosts); start += limit {
		end := min(start+limit, len(hosts))
		batch++
		var targets []Target
		for _, h := range hosts[start:end] {
			targets = append(targets, byHost[h]...)
		}
		waitBefore := batch > 1
		if o.ParallelRoles {
			p.Stages = append(p.Stages, Stage{Name: fmt.Sprintf("batch %d", batch), Targets: targets, WaitBefore: waitBefore, Group: batch})
			continue
		}
		for i, rt := range roleSteps(hosts[start:end], byHost) {
			p.Stages = append(p.Stages, Stage{Name: fmt.Sprintf("batch %d %s", batch, roleLabel(rt)), Targets: rt, WaitBefore: waitBefore && i == 0, Group: batch})
		}
	}
	return p
}

// roleSteps orders the roles of a batch's hosts without ParallelRoles: each
// host boots its roles one after another, as Kamal does, while the hosts go
// at once, so step k holds the k-th role of every host that has one. A
// host's roles never wait for another host's.
func roleSteps(hosts []string, byHost map[string][]Target) [][]Target {
	var steps [][]Target
	for k := 0; ; k++ {
		var step []Target
		for _, h := range hosts {
			if k < len(byHost[h]) {
				step = append(step, byHost[h][k])
			}
		}
		if len(step) == 0 {
			return steps
		}
		steps = append(steps, step)
	}
}

// roleLabel names a step by its roles.
func roleLabel(ts []Target) string {
	roles := rolesInOrder(ts)
	if len(roles) == 1 {
		return "role " + roles[0]
	}
	return "roles " + strings.Join(roles, ", ")
}

func rolesInOrder(ts []Target) []string {
	var roles []string
	seen := map[string]bool{}
	for _, t := range ts {
		if !seen[t.Role] {
			seen[t.Role] = true
			roles = append(roles, t.Role)
		}
	}
	return roles
}

// String prints the plan one stage per line.
func (p Plan) String() string {
	var b strings.Builder
	for i, s := range p.Stages {
		var ts []string
		for _, t := range s.Targets {
			ts = append(ts, t.String())
		}
		wait := ""
		if s.WaitBefore {
			wait = " (after boot.wait)"
		}
		fmt.Fprintf(&b, "%d. %s%s: %s\n", i+1, s.Name, wait, strings.Join(ts, ", "))
	}
	return b.String()
}

// Targets returns every target of the plan in order.
func (p Plan) Targets() []Target {
	var out []Target
	for _, s := range p.Stages {
		out = append(out, s.Targets...)
	}
	return out
}

// AllAtOnce is a one-stage plan. Rollbacks use it: each host's swap keeps
// serving throughout, so there is no capacity to protect with batches, and
// the fleet is back on the old version as soon as the slowest host is.
func AllAtOnce(targets []Target) Plan {
	if len(targets) == 0 {
		return Plan{}
	}
	return Plan{Stages: []Stage{{Name: "all hosts", Targets: append([]Target(nil), targets...)}}}
}

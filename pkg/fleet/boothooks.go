package fleet

// The hooks around app boot (Kamal's pre-app-boot and post-app-boot): once
// per boot group, before its first stage and after its last, with the
// group's hosts.

import (
	"context"
	"fmt"
)

// BootHooks are called around each boot group of a deploy or rollback.
// An error stops the operation as a failed host does.
type BootHooks interface {
	BeforeBoot(ctx context.Context, hosts []string) error
	AfterBoot(ctx context.Context, hosts []string) error
}

// groupHosts lists the hosts of the group stage i belongs to, once each,
// when stage i opens the group; nil otherwise.
func (p Plan) groupHosts(i int) []string {
	if i > 0 && p.Stages[i-1].Group == p.Stages[i].Group {
		return nil
	}
	var hosts []string
	seen := map[string]bool{}
	for j := i; j < len(p.Stages) && p.Stages[j].Group == p.Stages[i].Group; j++ {
		for _, t := range p.Stages[j].Targets {
			if !seen[t.Host] {
				seen[t.Host] = true
				hosts = append(hosts, t.Host)
			}
		}
	}
	return hosts
}

// closesGroup reports whether stage i is the last of its group.
func (p Plan) closesGroup(i int) bool {
	return i == len(p.Stages)-1 || p.Stages[i+1].Group != p.Stages[i].Group
}

// beforeStage runs the pre-boot hook when stage i opens a group, and
// remembers the group's hosts for afterStage.
func (r *Runner) beforeStage(ctx context.Context, p Plan, i int, group *[]string) error {
	if r.Hooks == nil {
		return nil
	}
	if hosts := p.groupHosts(i); hosts != nil {
		*group = hosts
		if err := r.Hooks.BeforeBoot(ctx, hosts); err != nil {
			return fmt.Errorf("before booting %v: %w", hosts, err)
		}
	}
	return nil
}

// afterStage runs the post-boot hook when stage i closes its group.
func (r *Runner) afterStage(ctx context.Context, p Plan, i int, group []string) error {
	if r.Hooks == nil || !p.closesGroup(i) {
		return nil
	}
	if err := r.Hooks.AfterBoot(ctx, group); err != nil {
		return fmt.Errorf("after booting %v: %w", group, err)
	}
	return nil
}

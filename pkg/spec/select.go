package spec

// Selecting roles and hosts: --hosts, --roles and --primary.

import (
	"fmt"
	"path"
	"strings"
)

// HostsFor returns the hosts of role, or nil for an unknown role.
func (c *Config) HostsFor(role string) []string {
	if r := c.Role(role); r != nil {
		return append([]string(nil), r.Hosts...)
	}
	return nil
}

// Filter is a --hosts/--roles/--primary selection; patterns may use * (and
// the other path.Match wildcards).
type Filter struct {
	Hosts   []string
	Roles   []string
	Primary bool
}

// Selection is the roles and their hosts a command acts on, in role order.
type Selection struct {
	Roles []*Role
	// Hosts of each selected role, filtered.
	Hosts map[string][]string
}

// AllHosts returns every selected host once, in role order.
func (s *Selection) AllHosts() []string {
	var lists [][]string
	for _, r := range s.Roles {
		lists = append(lists, s.Hosts[r.Name])
	}
	return uniq(lists...)
}

// Select applies a filter. It is an error when a pattern is malformed or
// nothing is selected.
func (c *Config) Select(f Filter) (*Selection, error) {
	for _, p := range append(append([]string(nil), f.Hosts...), f.Roles...) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("select hosts: bad pattern %q: %w", p, err)
		}
	}
	sel := &Selection{Hosts: map[string][]string{}}
	for _, r := range c.Roles {
		if len(f.Roles) > 0 && !matchAny(f.Roles, r.Name) {
			continue
		}
		var hosts []string
		for _, h := range r.Hosts {
			if len(f.Hosts) > 0 && !matchAny(f.Hosts, h) {
				continue
			}
			if f.Primary && h != c.PrimaryHost {
				continue
			}
			hosts = append(hosts, h)
		}
		if len(hosts) == 0 {
			continue
		}
		sel.Roles = append(sel.Roles, r)
		sel.Hosts[r.Name] = hosts
	}
	if len(sel.Roles) == 0 {
		return nil, fmt.Errorf("select hosts: no hosts match %s", f.describe())
	}
	return sel, nil
}

func (f Filter) describe() string {
	var parts []string
	if len(f.Hosts) > 0 {
		parts = append(parts, "--hosts "+strings.Join(f.Hosts, ","))
	}
	if len(f.Roles) > 0 {
		parts = append(parts, "--roles "+strings.Join(f.Roles, ","))
	}
	if f.Primary {
		parts = append(parts, "--primary")
	}
	if len(parts) == 0 {
		return "the config"
	}
	return strings.Join(parts, " ")
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

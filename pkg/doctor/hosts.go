package doctor

import (
	"fmt"
	"net/netip"
	"strings"
)

// Hosts check: hosts written as IP addresses tie the config to machines.

var checkHostsIP = Check{
	ID:    "hosts-ip",
	Title: "hosts are DNS names rather than IP addresses",
	Run: func(p *Project) []Finding {
		c := p.Config
		if c == nil {
			return nil
		}
		type group struct {
			what, key string
			hosts     []string
		}
		var groups []group
		for _, r := range c.Roles {
			groups = append(groups, group{"role " + r.Name, p.roleKey(r.Name), r.Hosts})
		}
		for _, a := range c.Accessories {
			groups = append(groups, group{"accessory " + a.Name, kp("accessories", a.Name), a.Hosts})
		}
		seen := map[Pos]bool{}
		var out []Finding
		for _, g := range groups {
			var ips []string
			for _, h := range g.hosts {
				if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
					ips = append(ips, h)
				}
			}
			if len(ips) == 0 {
				continue
			}
			pos := p.at(kp(g.key, "hosts", ips[0]), kp(g.key, ips[0]), kp(g.key, "host"), g.key)
			if seen[pos] {
				continue
			}
			seen[pos] = true
			out = append(out, Finding{
				Severity: Info, File: pos.File, Line: pos.Line,
				Message: fmt.Sprintf("%s lists %d host(s) by IP address (%s)", g.what, len(ips), strings.Join(ips, ", ")),
				Fix:     "prefer DNS names (or a load balancer in front) so a host can be replaced without editing the config",
			})
		}
		return out
	},
}

package doctor

import "fmt"

// Memory check: every container has a memory limit, so one leak cannot take
// the whole host (and every other container on it) down.

// hasMemory reports a memory limit among docker run options.
func hasMemory(opts map[string][]string) bool {
	for _, k := range []string{"memory", "m"} {
		if v, ok := opts[k]; ok && len(v) > 0 && v[0] != "" {
			return true
		}
	}
	return false
}

var checkMemoryLimit = Check{
	ID:    "memory-limit",
	Title: "every role and accessory has options.memory",
	Run: func(p *Project) []Finding {
		c := p.Config
		if c == nil {
			return nil
		}
		var out []Finding
		for _, r := range c.Roles {
			if hasMemory(r.Options) {
				continue
			}
			key := p.roleKey(r.Name)
			pos := p.at(key)
			fix := fmt.Sprintf("set servers.%s.options.memory (e.g. 1g), sized from the process's steady RSS plus headroom", r.Name)
			if key == "servers" {
				fix = fmt.Sprintf("write servers as roles (servers: {%s: {hosts: [...], options: {memory: 1g}}}), sized from the process's steady RSS plus headroom", r.Name)
			}
			out = append(out, Finding{
				Severity: Warn, File: pos.File, Line: pos.Line,
				Message: fmt.Sprintf("role %s has no memory limit", r.Name),
				Fix:     fix,
			})
		}
		for _, a := range c.Accessories {
			if hasMemory(a.Options) {
				continue
			}
			pos := p.at(kp("accessories", a.Name))
			out = append(out, Finding{
				Severity: Warn, File: pos.File, Line: pos.Line,
				Message: fmt.Sprintf("accessory %s has no memory limit", a.Name),
				Fix:     fmt.Sprintf("set accessories.%s.options.memory (e.g. 512m)", a.Name),
			})
		}
		return out
	},
}

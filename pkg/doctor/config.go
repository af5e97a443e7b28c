package doctor

import (
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// Config facts the checks share. The meaning of the config comes from
// pkg/spec's loaded model; positions come from the locator.

// primaryRole returns the primary role, or nil.
func (p *Project) primaryRole() *spec.Role {
	if p.Config == nil {
		return nil
	}
	if r := p.Config.Role(p.Config.PrimaryRole); r != nil {
		return r
	}
	if len(p.Config.Roles) > 0 {
		return p.Config.Roles[0]
	}
	return nil
}

// proxiedRoles returns the roles that serve traffic through the proxy.
func (p *Project) proxiedRoles() []*spec.Role {
	if p.Config == nil {
		return nil
	}
	var out []*spec.Role
	for _, r := range p.Config.Roles {
		if r.Proxy != nil {
			out = append(out, r)
		}
	}
	return out
}

// roleKey is the config path where role name is written: "servers.web", or
// "servers" when servers is a plain host list.
func (p *Project) roleKey(name string) string {
	if p.loc.Has(kp("servers", name)) {
		return kp("servers", name)
	}
	return "servers"
}

// at returns where the first written of paths is (or the nearest parent of
// the first).
func (p *Project) at(paths ...string) Pos {
	for _, path := range paths {
		if p.loc.Has(path) {
			return p.loc.At(path)
		}
	}
	if len(paths) == 0 {
		return p.loc.Base()
	}
	return p.loc.At(paths[0])
}

// erbAt reports whether the value written at pos comes from an ERB
// expression (and so is not a literal in the file).
func (p *Project) erbAt(pos Pos) bool {
	return strings.Contains(p.loc.SourceLine(pos), "<%")
}

// healthPath is the path the health check of role r requests.
func healthPath(r *spec.Role) string {
	if r.Proxy != nil && r.Proxy.Healthcheck.Path != "" {
		return r.Proxy.Healthcheck.Path
	}
	if r.Healthcheck != nil && r.Healthcheck.Path != "" {
		return r.Healthcheck.Path
	}
	return contract.DefaultHealthPath
}

// healthPaths returns the distinct health paths of proxied roles; "/up" when
// there is no config to say.
func (p *Project) healthPaths() []string {
	if p.Config == nil {
		return []string{contract.DefaultHealthPath}
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range p.proxiedRoles() {
		if r.Healthcheck != nil && r.Healthcheck.Cmd != "" {
			continue
		}
		if hp := healthPath(r); !seen[hp] {
			seen[hp] = true
			out = append(out, hp)
		}
	}
	return out
}

// envClear returns the clear env value of name as the primary role sees it.
func (p *Project) envClear(name string) (string, bool) {
	r := p.primaryRole()
	if r == nil {
		return "", false
	}
	v, ok := r.Env.Clear[name]
	return v, ok
}

// hasEnv reports whether the app's runtime env (config, Dockerfile final
// stage, image) sets name to a value accepted by ok.
func (p *Project) hasEnv(name string, ok func(string) bool) bool {
	if v, found := p.envClear(name); found && ok(v) {
		return true
	}
	for _, e := range p.finalEnv() {
		if e.Name == name && ok(e.Value) {
			return true
		}
	}
	if p.Image != nil {
		if v, found := p.Image.EnvValue(name); found && ok(v) {
			return true
		}
	}
	return false
}

// finalChain returns the final stage and the stages it builds on (FROM an
// earlier stage's name), final first.
func (p *Project) finalChain() []*Stage {
	d := p.Dockerfile
	f := d.Final()
	if f == nil {
		return nil
	}
	chain := []*Stage{f}
	for i := 0; i < len(d.Stages); i++ { // bounded by the stage count
		cur := chain[len(chain)-1]
		var next *Stage
		for _, s := range d.Stages {
			if s != cur && s.Name != "" && strings.EqualFold(s.Name, cur.Base) && s.Line < cur.Line {
				next = s
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
	}
	return chain
}

// finalEnv returns the env the final image gets from the Dockerfile.
func (p *Project) finalEnv() []EnvVar {
	var out []EnvVar
	chain := p.finalChain()
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, chain[i].Env()...)
	}
	return out
}

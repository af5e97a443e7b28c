package swap

import (
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Plan kinds.
const (
	KindDeploy   = "deploy"
	KindRollback = "rollback"
)

// Plan is what a deploy or rollback will do on this host, decided before
// anything runs.
type Plan struct {
	Kind        string
	Service     string
	Destination string
	Role        string
	Version     string
	// Green is the name of the container that will serve.
	Green string
	// Blue are the running containers green replaces.
	Blue  []docker.Container
	Steps []Step
}

// Names returns the step names in order.
func (p *Plan) Names() []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Name()
	}
	return out
}

// String prints the plan, one numbered step a line.
func (p *Plan) String() string {
	var b strings.Builder
	dest := ""
	if p.Destination != "" {
		dest = " -d " + p.Destination
	}
	fmt.Fprintf(&b, "%s %s/%s%s version %s\n", p.Kind, p.Service, p.Role, dest, p.Version)
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "%d. %s", i+1, s.Name())
		if f := s.Format(); f != "" {
			b.WriteString(": " + f)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Warmth is what a plan knows of warm containers: whether the engine can
// keep one (it has a WarmSet) and which of the role's containers are warm
// now.
type Warmth struct {
	Supported bool
	Names     []string
	// Live is the container the proxy routed to after the last swap, ""
	// when unknown.
	Live string
}

// PlanDeploy decides the steps of deploying d given the role's current
// containers (running and stopped, of d's service, destination and role).
// asideName is the name a container holding green's name is renamed to.
func PlanDeploy(d *contract.Deploy, current []docker.Container, asideName string, w ...Warmth) (*Plan, error) {
	p := &Plan{
		Kind: KindDeploy, Service: d.Service, Destination: d.Destination, Role: d.Role,
		Version: d.Version, Green: d.ContainerName(),
	}
	var aside *docker.Container
	for i := range current {
		c := current[i]
		if c.Name == p.Green {
			if c.Labels[contract.LabelService] != d.Service {
				return nil, fmt.Errorf("plan deploy: container name %s: %w", c.Name, ErrNameTaken)
			}
			aside = &c
		}
		if serving(c) {
			p.Blue = append(p.Blue, c)
		}
	}
	p.Steps = append(p.Steps, checkImage{image: d.Image, id: d.ImageID})
	if aside != nil {
		p.Steps = append(p.Steps, renameAside{from: *aside, to: asideName})
	}
	before, after := assetSteps(d, versions(p.Blue))
	p.Steps = append(p.Steps, before...)
	p.Steps = append(p.Steps,
		startGreen{green: p.Green, network: d.Network},
		waitHealthy{green: p.Green, check: d.Healthcheck, timeout: d.DeployTimeout})
	p.Steps = append(p.Steps, p.switchSteps(d, warmthOf(w))...)
	p.Steps = append(p.Steps, after...)
	p.Steps = append(p.Steps, prune{keep: d.RetainContainers})
	return p, nil
}

func warmthOf(w []Warmth) Warmth {
	if len(w) == 0 {
		return Warmth{}
	}
	return w[0]
}

// PlanRollback decides the steps of starting the retained container of a
// version again. d is the spec stored on that container. A retained
// container that still runs (warm) needs one health check, not the wait;
// one of a role without a proxy that was live just before (provenRetained)
// waits ProvenReadiness, not its readiness delay.
func PlanRollback(d *contract.Deploy, retained docker.Container, current []docker.Container, w ...Warmth) *Plan {
	p := &Plan{
		Kind: KindRollback, Service: d.Service, Destination: d.Destination, Role: d.Role,
		Version: d.Version, Green: retained.Name,
	}
	for _, c := range current {
		if serving(c) && c.ID != retained.ID {
			p.Blue = append(p.Blue, c)
		}
	}
	before, after := assetSteps(d, versions(p.Blue))
	p.Steps = append(p.Steps, before...)
	wait := waitHealthy{green: p.Green, check: d.Healthcheck, timeout: d.DeployTimeout, warm: serving(retained)}
	if provenRetained(current, retained, d) {
		wait.readiness = contract.Duration(min(ProvenReadiness, d.Healthcheck.ReadinessDelay.D()))
	}
	p.Steps = append(p.Steps, startRetained{retained: retained}, wait)
	p.Steps = append(p.Steps, p.switchSteps(d, warmthOf(w))...)
	p.Steps = append(p.Steps, after...)
	if warmthOf(w).Supported && d.Proxy != nil {
		// The warm containers count as retained ones.
		p.Steps = append(p.Steps, prune{keep: d.RetainContainers})
	}
	return p
}

// switchSteps are cutover and drain (for a role with a proxy) and stopping
// blue (when there is one). With a KeepWarm window (a role with a proxy on
// an engine that can keep warm), the container the proxy routed to keeps
// running out of rotation instead, and the containers warm already stop:
// at most one is ever warm.
func (p *Plan) switchSteps(d *contract.Deploy, w Warmth) []Step {
	var steps []Step
	drain, keep, stop := p.Blue, []docker.Container(nil), p.Blue
	warm := w.Supported && d.Proxy != nil
	if warm {
		var warmBlue, extra []docker.Container
		drain, warmBlue = splitWarm(p.Blue, w.Names)
		// More than one not warm runs only after a swap cut short after its
		// cutover: all drain (any may have had requests), one stays warm.
		keep, extra = lastRouted(drain, w.Live)
		stop = append(warmBlue, extra...)
		if d.KeepWarm == 0 {
			keep, stop = nil, p.Blue
		}
	}
	if d.Proxy != nil {
		steps = append(steps, cutover{green: p.Green, proxy: d.Proxy})
		if len(drain) > 0 {
			steps = append(steps, drainBlue{blue: drain, timeout: d.DrainTimeout})
		}
	}
	if warm {
		steps = append(steps, keepWarm{green: p.Green, for_: d.KeepWarm, keep: keep})
	}
	if len(stop) > 0 {
		steps = append(steps, stopBlue{blue: stop, timeout: d.StopTimeout})
	}
	return steps
}

// serving reports whether c is (supposed to be) up.
func serving(c docker.Container) bool {
	return c.State == docker.StateRunning || c.State == docker.StateRestarting
}

// versions are the app versions of cs, from their labels.
func versions(cs []docker.Container) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Labels[contract.LabelVersion])
	}
	return out
}

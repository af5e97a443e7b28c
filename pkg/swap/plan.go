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

// PlanDeploy decides the steps of deploying d given the role's current
// containers (running and stopped, of d's service, destination and role).
// asideName is the name a container holding green's name is renamed to.
func PlanDeploy(d *contract.Deploy, current []docker.Container, asideName string) (*Plan, error) {
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
	p.Steps = append(p.Steps, p.switchSteps(d)...)
	p.Steps = append(p.Steps, after...)
	p.Steps = append(p.Steps, prune{keep: d.RetainContainers})
	return p, nil
}

// PlanRollback decides the steps of starting the retained container of a
// version again. d is the spec stored on that container.
func PlanRollback(d *contract.Deploy, retained docker.Container, current []docker.Container) *Plan {
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
	p.Steps = append(p.Steps,
		startRetained{retained: retained},
		waitHealthy{green: p.Green, check: d.Healthcheck, timeout: d.DeployTimeout})
	p.Steps = append(p.Steps, p.switchSteps(d)...)
	p.Steps = append(p.Steps, after...)
	return p
}

// switchSteps are cutover and drain (for a role with a proxy) and stopping
// blue (when there is one).
func (p *Plan) switchSteps(d *contract.Deploy) []Step {
	var steps []Step
	if d.Proxy != nil {
		steps = append(steps, cutover{green: p.Green, proxy: d.Proxy})
		if len(p.Blue) > 0 {
			steps = append(steps, drainBlue{blue: p.Blue, timeout: d.DrainTimeout})
		}
	}
	if len(p.Blue) > 0 {
		steps = append(steps, stopBlue{blue: p.Blue, timeout: d.StopTimeout})
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

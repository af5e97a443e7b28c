package swap

import (
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Step names. They are persisted (journal, events): never change a value.
const (
	StepCheckImage    = "check-image"
	StepRenameAside   = "rename-aside"
	StepStartGreen    = "start-green"
	StepStartRetained = "start-retained"
	StepWaitHealthy   = "wait-healthy"
	StepCutover       = "cutover"
	StepDrainBlue     = "drain-blue"
	StepStopBlue      = "stop-blue"
	StepPrune         = "prune"
)

// Plan kinds.
const (
	KindDeploy   = "deploy"
	KindRollback = "rollback"
)

// Step is one named action of a plan.
type Step struct {
	Name   string
	Detail string
}

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
	Blue []docker.Container
	// Aside is the container holding green's name, renamed to AsideName.
	Aside     *docker.Container
	AsideName string
	// Retained is the stopped container a rollback starts.
	Retained *docker.Container
	Steps    []Step
}

// Names returns the step names in order.
func (p *Plan) Names() []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Name
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
		fmt.Fprintf(&b, "%d. %s", i+1, s.Name)
		if s.Detail != "" {
			b.WriteString(": " + s.Detail)
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
	for i := range current {
		c := current[i]
		if c.Name == p.Green {
			if c.Labels[contract.LabelService] != d.Service {
				return nil, fmt.Errorf("plan deploy: container name %s is taken by a container kamal does not manage", c.Name)
			}
			p.Aside, p.AsideName = &c, asideName
		}
		if serving(c) {
			p.Blue = append(p.Blue, c)
		}
	}
	image := d.Image
	if d.ImageID != "" {
		image += " (" + d.ImageID + ")"
	}
	p.add(StepCheckImage, image)
	if p.Aside != nil {
		p.add(StepRenameAside, p.Aside.Name+" -> "+p.AsideName)
	}
	p.add(StepStartGreen, fmt.Sprintf("%s on network %s", p.Green, d.Network))
	p.add(StepWaitHealthy, healthDetail(d))
	p.addSwitch(d)
	p.add(StepPrune, fmt.Sprintf("keep newest %d stopped", d.RetainContainers))
	return p, nil
}

// PlanRollback decides the steps of starting the retained container of a
// version again. d is the spec stored on that container.
func PlanRollback(d *contract.Deploy, retained docker.Container, current []docker.Container) *Plan {
	p := &Plan{
		Kind: KindRollback, Service: d.Service, Destination: d.Destination, Role: d.Role,
		Version: d.Version, Green: retained.Name, Retained: &retained,
	}
	for _, c := range current {
		if serving(c) && c.ID != retained.ID {
			p.Blue = append(p.Blue, c)
		}
	}
	detail := retained.Name
	if serving(retained) {
		detail += " (already running)"
	}
	p.add(StepStartRetained, detail)
	p.add(StepWaitHealthy, healthDetail(d))
	p.addSwitch(d)
	return p
}

// addSwitch adds cutover, drain and stop steps.
func (p *Plan) addSwitch(d *contract.Deploy) {
	blue := containerNames(p.Blue)
	if d.Proxy != nil {
		p.add(StepCutover, "route "+routeDetail(d)+" to "+p.Green)
		if len(p.Blue) > 0 {
			p.add(StepDrainBlue, fmt.Sprintf("%s within %s", blue, d.DrainTimeout.D()))
		}
	}
	if len(p.Blue) > 0 {
		p.add(StepStopBlue, fmt.Sprintf("%s with stop timeout %s", blue, d.StopTimeout.D()))
	}
}

func (p *Plan) add(name, detail string) {
	p.Steps = append(p.Steps, Step{Name: name, Detail: detail})
}

// serving reports whether c is (supposed to be) up.
func serving(c docker.Container) bool {
	return c.State == docker.StateRunning || c.State == docker.StateRestarting
}

func containerNames(cs []docker.Container) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func healthDetail(d *contract.Deploy) string {
	h := d.Healthcheck
	switch h.Kind {
	case contract.HealthHTTP:
		s := fmt.Sprintf("http GET :%d%s", h.Port, h.Path)
		if h.HostHeader != "" {
			s += " Host " + h.HostHeader
		}
		return s + fmt.Sprintf(" within %s", d.DeployTimeout.D())
	case contract.HealthTCP:
		return fmt.Sprintf("tcp :%d within %s", h.Port, d.DeployTimeout.D())
	case contract.HealthRunning:
		return fmt.Sprintf("still running after %s", h.ReadinessDelay.D())
	default:
		return fmt.Sprintf("docker healthcheck within %s", d.DeployTimeout.D())
	}
}

func routeDetail(d *contract.Deploy) string {
	px := d.Proxy
	switch {
	case len(px.TraefikLabels) > 0:
		return "traefik labels"
	case px.Rule != "":
		return px.Rule
	case len(px.Hosts) > 0:
		return strings.Join(px.Hosts, ",") + px.PathPrefix
	case px.PathPrefix != "":
		return px.PathPrefix
	default:
		return "all requests"
	}
}

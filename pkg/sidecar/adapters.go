package sidecar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// The real parts behind Deps: pkg/swap's engine, pkg/docker's client and
// a swap.Router (pkg/traefik), adapted to the sidecar's interfaces.

// confirmTimeout bounds confirming a route outside a swap.
const confirmTimeout = 15 * time.Second

// engineSwapper adapts *swap.Engine to Swapper.
type engineSwapper struct {
	e *swap.Engine
}

func (s engineSwapper) Deploy(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*contract.Result, error) {
	res, err := s.e.Deploy(ctx, d, eventsTo(emit))
	return swapResult(res), swapErr(err)
}

func (s engineSwapper) Rollback(ctx context.Context, req contract.RollbackRequest, emit func(contract.Event)) (*contract.Result, error) {
	res, err := s.e.Rollback(ctx, req.Service, req.Destination, req.Role.Role, req.Version, eventsTo(emit))
	return swapResult(res), swapErr(err)
}

func (s engineSwapper) Versions(ctx context.Context, r contract.Role) ([]contract.Version, error) {
	vs, err := s.e.Versions(ctx, r.Service, r.Destination, r.Role)
	if err != nil {
		return nil, err
	}
	out := make([]contract.Version, len(vs))
	for i, v := range vs {
		out[i] = contract.Version{Version: v.Version, Container: v.Container, State: v.State, Live: v.Running, Created: v.Created, Image: v.Image}
	}
	return out, nil
}

// eventsTo maps swap events to API events.
func eventsTo(emit func(contract.Event)) func(swap.Event) {
	return func(e swap.Event) {
		status := contract.EventInfo
		switch e.Status {
		case swap.StatusStarted:
			status = contract.EventStart
		case swap.StatusDone, swap.StatusSkipped:
			status = contract.EventDone
		case swap.StatusFailed:
			status = contract.EventFail
		}
		emit(contract.Event{Time: e.Time.UTC(), Step: e.Step, Status: status, Message: e.Message,
			Container: e.Container, Elapsed: contract.Duration(e.Duration)})
	}
}

func swapResult(r *swap.Result) *contract.Result {
	if r == nil {
		return nil
	}
	return &contract.Result{Version: r.Version, PreviousVersion: "", Container: r.Container,
		Duration: contract.Duration(r.Total), Cutover: contract.Duration(r.Cutover), Pruned: r.Pruned, Warnings: r.Warnings}
}

// swapErr maps the engine's errors to API errors with codes.
func swapErr(err error) error {
	if err == nil {
		return nil
	}
	e := &contract.Error{Code: contract.CodeDeployFailed, Message: err.Error()}
	var se *swap.StepError
	if errors.As(err, &se) {
		e.Step = se.Step
		e.Message = fmt.Sprintf("swap step %s of %s: %v", se.Step, se.Container, se.Err)
		if logs := strings.TrimRight(se.Logs, "\n"); logs != "" {
			e.Logs = strings.Split(logs, "\n")
		}
	}
	switch {
	case errors.Is(err, swap.ErrNotRetained):
		e.Code = contract.CodeNotFound
	case errors.Is(err, swap.ErrBusy):
		e.Code = contract.CodeConflict
	case errors.Is(err, swap.ErrImageMissing):
		e.Code = contract.CodeImageMissing
	case errors.Is(err, swap.ErrImageMismatch):
		e.Code = contract.CodeImageID
	}
	return e
}

// dockerContainers adapts *docker.Client to Containers.
type dockerContainers struct {
	c *docker.Client
}

func (d dockerContainers) State(ctx context.Context, name string) (ContainerState, error) {
	ct, err := d.c.Inspect(ctx, name)
	if docker.IsNotFound(err) {
		return ContainerState{}, nil
	}
	if err != nil {
		return ContainerState{}, err
	}
	return ContainerState{Exists: true, Running: ct.Running(), Health: ct.Health}, nil
}

func (d dockerContainers) Start(ctx context.Context, name string) error { return d.c.Start(ctx, name) }

func (d dockerContainers) Stop(ctx context.Context, name string, timeout time.Duration) error {
	return d.c.Stop(ctx, name, timeout)
}

// Spec reads the redacted spec a container was started with (swap.LabelSpec).
func (d dockerContainers) Spec(ctx context.Context, name string) (*contract.Deploy, error) {
	ct, err := d.c.Inspect(ctx, name)
	if err != nil {
		return nil, err
	}
	v := ct.Labels[swap.LabelSpec]
	if v == "" {
		return nil, fmt.Errorf("container %s has no %s label", name, swap.LabelSpec)
	}
	return contract.DecodeDeploy(strings.NewReader(v))
}

// healthProber adapts swap.HealthProber to Prober.
type healthProber struct {
	c *docker.Client
	p swap.HealthProber
}

func (h healthProber) WaitHealthy(ctx context.Context, d *contract.Deploy, name string) error {
	ct, err := h.c.Inspect(ctx, name)
	if err != nil {
		return err
	}
	return h.p.Ready(ctx, d, ct)
}

// Check probes once: the probe's deadline is the remaining ctx (short), and
// a "running" check passes as soon as the process is up.
func (h healthProber) Check(ctx context.Context, d *contract.Deploy, name string) error {
	ct, err := h.c.Inspect(ctx, name)
	if err != nil {
		return err
	}
	if !ct.Running() {
		return fmt.Errorf("%s is %s", name, ct.State)
	}
	if d.Healthcheck.Kind == contract.HealthRunning {
		return nil
	}
	c := *d
	c.DeployTimeout = contract.Duration(statusProbeTimeout)
	if dl, ok := ctx.Deadline(); ok {
		c.DeployTimeout = contract.Duration(time.Until(dl))
	}
	return h.p.Ready(ctx, &c, ct)
}

// swapRouter adapts a swap.Router (pkg/traefik) to Router: it routes a
// role to one container by name and confirms Traefik serves it.
type swapRouter struct {
	c *docker.Client
	r swap.Router
}

func (s swapRouter) Route(ctx context.Context, d *contract.Deploy, name string) error {
	if d.Proxy == nil {
		return nil
	}
	ct, err := s.c.Inspect(ctx, name)
	if err != nil {
		return err
	}
	servers := []swap.Server{serverOf(d, ct)}
	if err := s.r.Route(ctx, d, servers); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, confirmTimeout)
	defer cancel()
	return s.r.Confirm(cctx, d, servers)
}

// serverOf is ct as a backend: its address on the spec's network and the
// app port.
func serverOf(d *contract.Deploy, ct docker.Container) swap.Server {
	host := ct.IPs[d.Network]
	if host == "" {
		host = ct.Name
	}
	port := contract.DefaultAppPort
	if d.Proxy != nil && d.Proxy.AppPort != 0 {
		port = d.Proxy.AppPort
	}
	return swap.Server{Container: ct.Name, Address: net.JoinHostPort(host, strconv.Itoa(port))}
}

// dockerImages adapts *docker.Client to Images.
type dockerImages struct {
	c *docker.Client
}

func (d dockerImages) Inventory(ctx context.Context) ([]contract.Image, error) {
	list, err := d.c.ImageList(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]contract.Image, 0, len(list))
	for _, img := range list {
		full, err := d.c.ImageInspect(ctx, img.ID)
		if docker.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, contract.Image{ID: full.ID, Tags: full.RepoTags, Layers: full.Layers})
	}
	return out, nil
}

func (d dockerImages) Load(ctx context.Context, archive io.Reader) (string, error) {
	return d.c.ImageLoad(ctx, archive)
}

func (d dockerImages) Has(ctx context.Context, id string) (bool, error) {
	img, err := d.c.ImageInspect(ctx, id)
	if docker.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return img.ID == id, nil
}

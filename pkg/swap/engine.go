package swap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
)

// Tunables with their defaults.
const (
	// DefaultLogTail is how many log lines of a failed green an error carries.
	DefaultLogTail = 50
	// DefaultConfirmTimeout bounds the wait for the proxy to serve green.
	DefaultConfirmTimeout = 15 * time.Second
	// cleanupTimeout bounds the calls made after a failure or cancel (stop
	// green, read its logs, route back), which run on a fresh context.
	cleanupTimeout = 30 * time.Second
	// failedStopTimeout is the grace a failed green gets on stop.
	failedStopTimeout = 5 * time.Second
	// stopGrace is added to the stop timeout for the docker stop call itself.
	stopGrace = 15 * time.Second
)

// Event statuses. They are persisted: never change a value.
const (
	StatusStarted = "started"
	StatusDone    = "done"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Event is one step transition, streamed to the caller.
type Event struct {
	Time      time.Time     `json:"time"`
	Step      string        `json:"step"`
	Status    string        `json:"status"`
	Container string        `json:"container,omitempty"`
	Message   string        `json:"message,omitempty"`
	Duration  time.Duration `json:"duration,omitempty"`
}

// Result is a finished deploy or rollback.
type Result struct {
	Kind      string
	Version   string
	Container string // the serving container's name
	ID        string // and ID
	// Previous names the containers that served before ("" if none).
	Previous string
	// Healthy is green's start -> healthy; Cutover is green healthy -> proxy
	// confirmed serving green; Total the whole swap.
	Healthy time.Duration
	Cutover time.Duration
	Total   time.Duration
	// Pruned are the containers removed by retention.
	Pruned []string
	// Warnings are failures after cutover that did not fail the swap.
	Warnings []string
	Plan     *Plan
}

// Engine runs swaps on one host.
type Engine struct {
	Docker Docker
	// Router is required for roles with a proxy.
	Router Router
	// Prober defaults to HealthProber over Docker.
	Prober Prober
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Journal is optional.
	Journal Journal
	// LogTail and ConfirmTimeout default to DefaultLogTail and
	// DefaultConfirmTimeout.
	LogTail        int
	ConfirmTimeout time.Duration

	mu     sync.Mutex
	active map[string]bool
}

func roleKey(service, destination, role string) string {
	return service + "/" + destination + "/" + role
}

// acquire marks the role busy; release with the returned func.
func (e *Engine) acquire(key string) (func(), error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.active == nil {
		e.active = map[string]bool{}
	}
	if e.active[key] {
		return nil, fmt.Errorf("swap %s: %w", key, ErrBusy)
	}
	e.active[key] = true
	return func() {
		e.mu.Lock()
		delete(e.active, key)
		e.mu.Unlock()
	}, nil
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

func (e *Engine) prober() Prober {
	if e.Prober != nil {
		return e.Prober
	}
	return HealthProber{Docker: e.Docker}
}

// roleContainers lists every container (any state) of one role.
func (e *Engine) roleContainers(ctx context.Context, service, destination, role string) ([]docker.Container, error) {
	cs, err := e.Docker.List(ctx, map[string]string{contract.LabelService: service, contract.LabelRole: role}, true)
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", roleKey(service, destination, role), err)
	}
	out := cs[:0]
	for _, c := range cs {
		if c.Labels[contract.LabelDestination] == destination && c.Labels[contract.LabelService] == service && c.Labels[contract.LabelRole] == role {
			out = append(out, c)
		}
	}
	return out, nil
}

// prepare validates a copy of d with defaults applied.
func prepare(d *contract.Deploy) (*contract.Deploy, error) {
	if d == nil {
		return nil, errors.New("no spec")
	}
	c := *d
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Plan returns what Deploy would do now, without doing it.
func (e *Engine) Plan(ctx context.Context, d *contract.Deploy) (*Plan, error) {
	d, err := prepare(d)
	if err != nil {
		return nil, fmt.Errorf("plan deploy: %w", err)
	}
	cs, err := e.roleContainers(ctx, d.Service, d.Destination, d.Role)
	if err != nil {
		return nil, err
	}
	return PlanDeploy(d, cs, asideName(d.ContainerName()))
}

// Deploy replaces the role's running container with a new one of d.Version.
// emit (may be nil) sees every step transition.
func (e *Engine) Deploy(ctx context.Context, d *contract.Deploy, emit func(Event)) (*Result, error) {
	d, err := prepare(d)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	if d.Proxy != nil && e.Router == nil {
		return nil, fmt.Errorf("deploy %s: %w", d.ContainerName(), ErrNoRouter)
	}
	release, err := e.acquire(roleKey(d.Service, d.Destination, d.Role))
	if err != nil {
		return nil, err
	}
	defer release()
	cs, err := e.roleContainers(ctx, d.Service, d.Destination, d.Role)
	if err != nil {
		return nil, err
	}
	p, err := PlanDeploy(d, cs, asideName(d.ContainerName()))
	if err != nil {
		return nil, err
	}
	return e.newRun(d, p, emit).execute(ctx)
}

// Rollback starts the retained container of version again and swaps it in.
func (e *Engine) Rollback(ctx context.Context, service, destination, role, version string, emit func(Event)) (*Result, error) {
	key := roleKey(service, destination, role)
	release, err := e.acquire(key)
	if err != nil {
		return nil, err
	}
	defer release()
	cs, err := e.roleContainers(ctx, service, destination, role)
	if err != nil {
		return nil, err
	}
	target, ok := retained(cs, contract.ContainerName(service, role, destination, version), version)
	if !ok {
		return nil, fmt.Errorf("rollback %s to %s: %w", key, version, ErrNotRetained)
	}
	d, err := decodeSpec(target.Labels[LabelSpec])
	if err != nil {
		return nil, fmt.Errorf("rollback %s to %s: %w", key, version, err)
	}
	if d.Service != service || d.Destination != destination || d.Role != role || d.Version != version {
		return nil, fmt.Errorf("rollback %s to %s: spec label of %s is for %s version %s", key, version, target.Name,
			roleKey(d.Service, d.Destination, d.Role), d.Version)
	}
	d.ApplyDefaults()
	if d.Proxy != nil && e.Router == nil {
		return nil, fmt.Errorf("rollback %s: %w", key, ErrNoRouter)
	}
	return e.newRun(d, PlanRollback(d, target, cs), emit).execute(ctx)
}

// retained picks the container of version to roll back to: the one with the
// canonical name, else the newest renamed-aside one.
func retained(cs []docker.Container, name, version string) (docker.Container, bool) {
	var best docker.Container
	found := false
	for _, c := range cs {
		if c.Labels[contract.LabelVersion] != version {
			continue
		}
		if c.Name == name {
			return c, true
		}
		if !found || c.Created.After(best.Created) {
			best, found = c, true
		}
	}
	return best, found
}

// run is one execution of a plan.
type run struct {
	e     *Engine
	d     *contract.Deploy
	plan  *Plan
	emit  func(Event)
	log   *slog.Logger
	res   *Result
	start time.Time

	green     docker.Container // once created/started
	healthyAt time.Time
	routed    bool // the proxy may now route to green
}

func (e *Engine) newRun(d *contract.Deploy, p *Plan, emit func(Event)) *run {
	if emit == nil {
		emit = func(Event) {}
	}
	return &run{
		e: e, d: d, plan: p, emit: emit,
		log: e.logger().With("component", "swap", "kind", p.Kind, "service", d.Service,
			"destination", d.Destination, "role", d.Role, "version", d.Version),
		res: &Result{Kind: p.Kind, Version: d.Version, Container: p.Green, Previous: containerNames(p.Blue), Plan: p},
	}
}

// execute runs the plan's steps in order. Before cutover a failure undoes
// green; after it, failures are warnings.
func (r *run) execute(ctx context.Context) (*Result, error) {
	r.start = time.Now()
	r.log.Info("swap starting", "plan", r.plan.Names())
	for _, st := range r.plan.Steps {
		postCutover := r.routed && st.Name != StepCutover
		if err := ctx.Err(); err != nil {
			return r.abort(ctx, st, err)
		}
		r.transition(st.Name, StatusStarted, "", 0)
		t0 := time.Now()
		err := r.do(ctx, st)
		dur := time.Since(t0)
		if err == nil {
			r.transition(st.Name, StatusDone, "", dur)
			continue
		}
		r.transition(st.Name, StatusFailed, err.Error(), dur)
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return r.abort(ctx, st, err)
		}
		if postCutover {
			r.res.Warnings = append(r.res.Warnings, st.Name+": "+err.Error())
			r.log.Warn("step failed after cutover", "step", st.Name, "err", err)
			continue
		}
		return nil, r.fail(st, err)
	}
	r.res.Total = time.Since(r.start)
	r.log.Info("swap done", "container", r.res.Container, "healthy", r.res.Healthy, "cutover", r.res.Cutover, "total", r.res.Total)
	return r.res, nil
}

func (r *run) transition(step, status, msg string, dur time.Duration) {
	ev := Event{Time: time.Now(), Step: step, Status: status, Container: r.stepContainer(step), Message: msg, Duration: dur}
	r.emit(ev)
	if r.e.Journal != nil {
		state := map[string]string{
			"kind": r.plan.Kind, "status": status, "green": r.plan.Green, "greenID": r.green.ID,
			"blue": containerNames(r.plan.Blue), "routed": fmt.Sprint(r.routed),
		}
		if msg != "" {
			state["message"] = msg
		}
		if err := r.e.Journal.Record(step, r.d.Redacted(), state); err != nil {
			r.log.Error("journal step", "step", step, "status", status, "err", err)
		}
	}
}

func (r *run) stepContainer(step string) string {
	switch step {
	case StepRenameAside:
		return r.plan.Aside.Name
	case StepDrainBlue, StepStopBlue:
		return containerNames(r.plan.Blue)
	case StepCheckImage, StepPrune:
		return ""
	default:
		return r.plan.Green
	}
}

func (r *run) do(ctx context.Context, st Step) error {
	switch st.Name {
	case StepCheckImage:
		return r.checkImage(ctx)
	case StepRenameAside:
		return r.e.Docker.Rename(ctx, r.plan.Aside.ID, r.plan.AsideName)
	case StepStartGreen:
		return r.startGreen(ctx)
	case StepStartRetained:
		return r.startRetained(ctx)
	case StepWaitHealthy:
		return r.waitHealthy(ctx)
	case StepCutover:
		return r.cutover(ctx)
	case StepDrainBlue:
		dctx, cancel := context.WithTimeout(ctx, r.d.DrainTimeout.D())
		defer cancel()
		err := r.e.Router.Drain(dctx, r.d, r.servers(r.plan.Blue))
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			// A drain that outlasts its timeout still proceeds to stop blue.
			return fmt.Errorf("drain %s: in-flight requests remain after %s", containerNames(r.plan.Blue), r.d.DrainTimeout.D())
		}
		return err
	case StepStopBlue:
		return r.stopBlue(ctx)
	case StepPrune:
		return r.prune(ctx)
	}
	return fmt.Errorf("unknown step %q", st.Name)
}

func (r *run) checkImage(ctx context.Context) error {
	img, err := r.e.Docker.ImageInspect(ctx, r.d.Image)
	if docker.IsNotFound(err) {
		return fmt.Errorf("check image %s: %w", r.d.Image, ErrImageMissing)
	}
	if err != nil {
		return err
	}
	if r.d.ImageID != "" && img.ID != r.d.ImageID {
		return fmt.Errorf("check image %s: host has %s, spec wants %s: %w", r.d.Image, img.ID, r.d.ImageID, ErrImageMismatch)
	}
	return nil
}

func (r *run) startGreen(ctx context.Context) error {
	cs, err := containerSpec(r.d)
	if err != nil {
		return err
	}
	id, err := r.e.Docker.Create(ctx, cs)
	if err != nil {
		return err
	}
	r.green = docker.Container{ID: id, Name: cs.Name}
	r.res.ID = id
	return r.e.Docker.Start(ctx, id)
}

func (r *run) startRetained(ctx context.Context) error {
	t := *r.plan.Retained
	r.green = t
	r.res.ID = t.ID
	if serving(t) {
		return nil
	}
	return r.e.Docker.Start(ctx, t.ID)
}

func (r *run) waitHealthy(ctx context.Context) error {
	t0 := time.Now()
	c, err := r.e.Docker.Inspect(ctx, r.green.ID)
	if err != nil {
		return err
	}
	r.green = c
	if err := r.e.prober().Ready(ctx, r.d, c); err != nil {
		return err
	}
	r.healthyAt = time.Now()
	r.res.Healthy = r.healthyAt.Sub(t0)
	return nil
}

func (r *run) cutover(ctx context.Context) error {
	servers := []Server{ServerFor(r.d, r.green)}
	r.routed = true
	if err := r.e.Router.Route(ctx, r.d, servers); err != nil {
		return err
	}
	timeout := r.e.ConfirmTimeout
	if timeout <= 0 {
		timeout = DefaultConfirmTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := r.e.Router.Confirm(cctx, r.d, servers); err != nil {
		return fmt.Errorf("confirm cutover to %s: %w", servers[0].Address, err)
	}
	r.res.Cutover = time.Since(r.healthyAt)
	return nil
}

func (r *run) servers(cs []docker.Container) []Server {
	out := make([]Server, len(cs))
	for i, c := range cs {
		out[i] = ServerFor(r.d, c)
	}
	return out
}

func (r *run) stopBlue(ctx context.Context) error {
	var errs []error
	for _, c := range r.plan.Blue {
		sctx, cancel := context.WithTimeout(ctx, r.d.StopTimeout.D()+stopGrace)
		err := r.e.Docker.Stop(sctx, c.ID, r.d.StopTimeout.D())
		cancel()
		if err != nil && !docker.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// fail handles a failure before or at cutover: the proxy goes back to
// blue, green is stopped and kept, and the error carries its logs.
func (r *run) fail(st Step, err error) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if r.routed {
		r.routeBack(ctx)
	}
	logs := r.stopGreen(ctx)
	r.log.Error("swap failed", "step", st.Name, "err", err)
	return &StepError{Step: st.Name, Container: r.plan.Green, Logs: logs, Err: err}
}

// abort handles a cancelled context: stop quietly, leave the host serving.
// Before the proxy may route to green, green is stopped; after, nothing is
// stopped (green and blue both run; the proxy points at one of them).
func (r *run) abort(ctx context.Context, st Step, err error) (*Result, error) {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	r.log.Warn("swap cancelled", "step", st.Name, "routed", r.routed)
	if !r.routed {
		cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		r.stopGreen(cctx)
		return nil, &StepError{Step: st.Name, Container: r.plan.Green, Err: err}
	}
	r.res.Total = time.Since(r.start)
	return r.res, &StepError{Step: st.Name, Container: r.plan.Green, Err: err}
}

// routeBack points the proxy at blue again, or removes the route when there
// was no blue.
func (r *run) routeBack(ctx context.Context) {
	if len(r.plan.Blue) == 0 {
		if err := r.e.Router.Unroute(ctx, r.d); err != nil {
			r.log.Error("unroute after failed cutover", "err", err)
		}
		return
	}
	blue := r.servers(r.plan.Blue)
	if err := r.e.Router.Route(ctx, r.d, blue); err != nil {
		r.log.Error("route back to blue", "err", err)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, DefaultConfirmTimeout)
	defer cancel()
	if err := r.e.Router.Confirm(cctx, r.d, blue); err != nil {
		r.log.Error("confirm route back to blue", "err", err)
	}
}

// stopGreen stops (and keeps) green, returning its last log lines.
func (r *run) stopGreen(ctx context.Context) string {
	if r.green.ID == "" {
		return ""
	}
	if r.plan.Kind == KindRollback && r.plan.Retained != nil && serving(*r.plan.Retained) {
		// It was running before the rollback began: leave it as found.
		return ""
	}
	if err := r.e.Docker.Stop(ctx, r.green.ID, failedStopTimeout); err != nil && !docker.IsNotFound(err) {
		r.log.Error("stop failed green", "container", r.plan.Green, "err", err)
	}
	tail := r.e.LogTail
	if tail <= 0 {
		tail = DefaultLogTail
	}
	logs, err := r.e.Docker.Logs(ctx, r.green.ID, tail)
	if err != nil {
		r.log.Error("read logs of failed green", "container", r.plan.Green, "err", err)
		return ""
	}
	return redactLogs(logs, r.d)
}

// redactLogs replaces secret values that a failing app may have printed.
func redactLogs(logs string, d *contract.Deploy) string {
	for _, v := range d.SecretEnv {
		if len(v) >= 4 {
			logs = strings.ReplaceAll(logs, v, contract.Redacted)
		}
	}
	return logs
}

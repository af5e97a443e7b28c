package swap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// cleanupTimeout bounds the undo of a failed or cancelled swap (stop
	// green, read its logs, route back), which runs on a fresh context.
	cleanupTimeout = 30 * time.Second
	// failedStopTimeout is the grace a failed green gets on stop.
	failedStopTimeout = 5 * time.Second
	// stopGrace is added to the stop timeout for the docker stop call itself.
	stopGrace = 15 * time.Second
)

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
	// Assets is required for roles with an asset path.
	Assets Assets
	// Warm, when set, keeps replaced containers running for the spec's
	// KeepWarm; without it they stop at once.
	Warm WarmSet
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// LogTail and ConfirmTimeout default to DefaultLogTail and
	// DefaultConfirmTimeout.
	LogTail        int
	ConfirmTimeout time.Duration

	mu     sync.Mutex
	active map[contract.Role]bool
}

// Plan returns what Deploy would do now, without doing it.
func (e *Engine) Plan(ctx context.Context, d *contract.Deploy) (*Plan, error) {
	d, err := prepare(d)
	if err != nil {
		return nil, fmt.Errorf("plan deploy: %w", err)
	}
	cs, err := e.roleContainers(ctx, roleOf(d))
	if err != nil {
		return nil, err
	}
	return PlanDeploy(d, cs, asideName(d.ContainerName()), e.warmth(roleOf(d)))
}

// warmth is what a plan needs to know of the role's warm containers.
func (e *Engine) warmth(role contract.Role) Warmth {
	w := Warmth{Supported: e.Warm != nil, Names: e.warmNames(role)}
	if e.Warm != nil {
		w.Live = e.Warm.Live(role)
	}
	return w
}

// Deploy replaces the role's running container with a new one of d.Version.
// emit (may be nil) sees every step's start, done or fail event.
func (e *Engine) Deploy(ctx context.Context, d *contract.Deploy, emit func(contract.Event)) (*Result, error) {
	d, err := prepare(d)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	if d.Proxy != nil && e.Router == nil {
		return nil, fmt.Errorf("deploy %s: %w", d.ContainerName(), ErrNoRouter)
	}
	release, err := e.acquire(roleOf(d))
	if err != nil {
		return nil, err
	}
	defer release()
	cs, err := e.roleContainers(ctx, roleOf(d))
	if err != nil {
		return nil, err
	}
	p, err := PlanDeploy(d, cs, asideName(d.ContainerName()), e.warmth(roleOf(d)))
	if err != nil {
		return nil, err
	}
	return e.newRun(d, p, emit).execute(ctx)
}

// Rollback starts the retained container of version again and swaps it in.
func (e *Engine) Rollback(ctx context.Context, role contract.Role, version string, emit func(contract.Event)) (*Result, error) {
	release, err := e.acquire(role)
	if err != nil {
		return nil, err
	}
	defer release()
	cs, err := e.roleContainers(ctx, role)
	if err != nil {
		return nil, err
	}
	target, ok := retained(cs, contract.ContainerName(role.Service, role.Role, role.Destination, version), version)
	if !ok {
		return nil, fmt.Errorf("rollback %s to %s: %w", roleKey(role), version, ErrNotRetained)
	}
	d, err := decodeSpec(target.Labels[LabelSpec])
	if err != nil {
		return nil, fmt.Errorf("rollback %s to %s: %w", roleKey(role), version, err)
	}
	if roleOf(d) != role || d.Version != version {
		return nil, fmt.Errorf("rollback %s to %s: %w: %s holds %s version %s", roleKey(role), version, ErrForeignSpec, target.Name,
			roleKey(roleOf(d)), d.Version)
	}
	d.ApplyDefaults()
	if d.Proxy != nil && e.Router == nil {
		return nil, fmt.Errorf("rollback %s: %w", roleKey(role), ErrNoRouter)
	}
	d.KeepWarm = e.replacedKeepWarm(cs, target, d.KeepWarm)
	if d.Proxy == nil {
		// provenRetained needs the start and stop times.
		if cs, err = e.inspectAll(ctx, cs); err != nil {
			return nil, fmt.Errorf("rollback %s to %s: %w", roleKey(role), version, err)
		}
		if target, err = e.Docker.Inspect(ctx, target.ID); err != nil {
			return nil, fmt.Errorf("rollback %s to %s: %w", roleKey(role), version, err)
		}
	}
	return e.newRun(d, PlanRollback(d, target, cs, e.warmth(role)), emit).execute(ctx)
}

// replacedKeepWarm is the warm window of the container a rollback replaces
// (the one serving now, not warm): the window it was deployed with, not
// the older one on the rollback target. def when there is none.
func (e *Engine) replacedKeepWarm(cs []docker.Container, target docker.Container, def contract.Duration) contract.Duration {
	live, _ := splitWarm(cs, e.warmNames(labelRole(target)))
	for _, c := range live {
		if c.ID == target.ID || !serving(c) {
			continue
		}
		if spec, err := decodeSpec(c.Labels[LabelSpec]); err == nil {
			return spec.KeepWarm
		}
	}
	return def
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

// acquire marks the role busy; release with the returned func.
func (e *Engine) acquire(role contract.Role) (func(), error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.active == nil {
		e.active = map[contract.Role]bool{}
	}
	if e.active[role] {
		return nil, fmt.Errorf("swap %s: %w", roleKey(role), ErrBusy)
	}
	e.active[role] = true
	return func() {
		e.mu.Lock()
		delete(e.active, role)
		e.mu.Unlock()
	}, nil
}

// roleContainers lists every container (any state) of one role.
func (e *Engine) roleContainers(ctx context.Context, role contract.Role) ([]docker.Container, error) {
	cs, err := e.Docker.List(ctx, map[string]string{contract.LabelService: role.Service, contract.LabelRole: role.Role}, true)
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", roleKey(role), err)
	}
	out := cs[:0]
	for _, c := range cs {
		if labelRole(c) == role {
			out = append(out, c)
		}
	}
	return out, nil
}

// labelRole is the role c's labels name.
func labelRole(c docker.Container) contract.Role {
	return contract.Role{Service: c.Labels[contract.LabelService], Destination: c.Labels[contract.LabelDestination],
		Role: c.Labels[contract.LabelRole]}
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

// roleOf is the role d deploys.
func roleOf(d *contract.Deploy) contract.Role {
	return contract.Role{Service: d.Service, Destination: d.Destination, Role: d.Role}
}

// roleKey is service/destination/role, for messages.
func roleKey(r contract.Role) string { return r.Service + "/" + r.Destination + "/" + r.Role }

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

func (e *Engine) confirmTimeout() time.Duration {
	if e.ConfirmTimeout > 0 {
		return e.ConfirmTimeout
	}
	return DefaultConfirmTimeout
}

func (e *Engine) logTail(d *contract.Deploy) int {
	if d != nil && d.LogLines > 0 {
		return d.LogLines
	}
	if e.LogTail > 0 {
		return e.LogTail
	}
	return DefaultLogTail
}

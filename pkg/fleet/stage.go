package fleet

import (
	"context"
	"sync"
	"time"
)

// ServingDeployer is a Deployer that says when a target serves the version
// it is swapping to, before its swap ends: the old container is still
// draining and stopping then, which concerns that host alone. The runner
// starts the next stage at that moment instead of after the whole swap, so
// a deploy's stages overlap by their drains (and a rollback's by its stop
// of the newer containers). serving may be called at most once; a target
// that never calls it holds the next stage until its operation returns.
type ServingDeployer interface {
	Deployer
	DeployServing(ctx context.Context, t Target, serving func()) error
	RollbackServing(ctx context.Context, t Target, version string, serving func()) error
}

// targetOp is one target's operation in a stage; serving is its early
// signal (see ServingDeployer).
type targetOp func(ctx context.Context, t Target, serving func()) error

// tails are the operations of earlier stages still winding down; mu
// guards what their finished callbacks write.
type tails struct {
	wg sync.WaitGroup
	mu sync.Mutex
}

func (tl *tails) wait() { tl.wg.Wait() }

// runStage starts op on every target at once and returns when each one
// serves or has finished. finished is called under tl.mu with each
// target's result when its operation returns, which may be after runStage
// did; tl.wait waits for those.
func (r *Runner) runStage(ctx context.Context, targets []Target, op targetOp, tl *tails, finished func(t Target, d time.Duration, err error)) {
	ready := make([]chan struct{}, len(targets))
	for i, t := range targets {
		ch := make(chan struct{})
		ready[i] = ch
		var once sync.Once
		signal := func() { once.Do(func() { close(ch) }) }
		tl.wg.Add(1)
		go func() {
			defer tl.wg.Done()
			defer signal()
			t0 := time.Now()
			err := op(ctx, t, signal)
			tl.mu.Lock()
			defer tl.mu.Unlock()
			finished(t, time.Since(t0), err)
		}()
	}
	for _, ch := range ready {
		<-ch
	}
}

// deployOp is the runner's deploy of one target, early-serving when the
// deployer can say so.
func (r *Runner) deployOp() targetOp {
	if sd, ok := r.Deployer.(ServingDeployer); ok {
		return sd.DeployServing
	}
	return func(ctx context.Context, t Target, _ func()) error { return r.Deployer.Deploy(ctx, t) }
}

// rollbackOp is deployOp for a rollback to version.
func (r *Runner) rollbackOp(version string) targetOp {
	if sd, ok := r.Deployer.(ServingDeployer); ok {
		return func(ctx context.Context, t Target, serving func()) error {
			return sd.RollbackServing(ctx, t, version, serving)
		}
	}
	return func(ctx context.Context, t Target, _ func()) error { return r.Deployer.Rollback(ctx, t, version) }
}

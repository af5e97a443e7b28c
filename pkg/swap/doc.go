// Package swap is the per-host blue/green state machine: it replaces the
// running ("blue") container of one service role with a new ("green") one
// only once green is healthy, then cuts the proxy over, drains and stops
// blue, and keeps a bounded number of stopped containers for rollback.
//
// The work is an explicit Plan of typed steps, built from the spec and the
// host's containers before anything runs, so it can be printed and
// asserted. Each step is a value with a persisted Name, a printable Format
// and an Execute (step.go, steps_start.go, steps_switch.go):
//
//	deploy:   check-image, [rename-aside], start-green, wait-healthy,
//	          [cutover, drain-blue], [stop-blue], prune
//	rollback: start-retained, wait-healthy, [cutover, drain-blue], [stop-blue]
//
// (cutover and drain-blue only for roles with a proxy; rename-aside only when
// a container already has green's name; stop-blue only when blue exists.)
// A failed or cancelled swap is undone by a plan of its own (undo.go):
// route back to blue (or unroute a first deploy), stop green, read its logs.
//
// API used by the sidecar:
//
//	e := &swap.Engine{Docker: dockerClient, Router: traefikDynamic, Prober: swap.HealthProber{...}, Logger: log}
//	res, err := e.Deploy(ctx, d, func(ev contract.Event) { ... })
//	res, err := e.Rollback(ctx, role, "v1", emit)
//	vs, err := e.Versions(ctx, role)
//	plan, err := e.Plan(ctx, d) // what Deploy would do, without doing it
//	srv := swap.ServerFor(d, container) // the backend address the engine routes to
//	d, err := swap.SpecOf(container)    // the redacted spec it was started with
//
// Guarantees:
//   - A failure before cutover leaves blue serving and untouched; green is
//     stopped and kept, and the *StepError carries its last log lines.
//   - A failed cutover points the proxy back at blue before stopping green.
//   - Failures after cutover (drain, stop blue, prune) do not fail the
//     deploy: green serves; they are reported as "failed" events and in
//     Result.Warnings.
//   - A cancelled ctx stops quietly: before cutover green is stopped and
//     kept; after the proxy may route to green, nothing is stopped, so the
//     proxy always points at a running container. The error wraps
//     context.Canceled.
//   - Every container carries the kamal.* labels and LabelSpec, the redacted
//     wire spec (secret values replaced), so a rollback needs nothing but the
//     retained container.
//   - Retention keeps the newest RetainContainers stopped containers per
//     service, destination and role (role too, so that roles deployed in
//     parallel never prune each other); never across destinations.
//   - Proxy servers are container IP addresses on the spec's network, not
//     names: a redeploy of the same version renames blue aside while it still
//     serves, and a name would then resolve to the not-yet-healthy green.
//
// Persisted names (step names, labels) are plain strings so a saved journal
// keeps its meaning across versions; events use pkg/contract's statuses.
package swap

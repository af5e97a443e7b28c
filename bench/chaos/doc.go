// Package chaos is `make chaos`: a seeded soak of docker kamal on three
// harness hosts under load. Each cycle runs one command (a deploy, a
// rollback or a deploy that never gets healthy) and injects one fault from
// the matrix (a host partition, a dockerd restart, a host reboot, Traefik
// killed, the sidecar killed, the plugin killed by SIGKILL, Ctrl-C to the
// command's process group, or none) at a random moment within the command's
// expected duration. After the command the cycle heals the fault, waits
// for the hosts' sidecars to end the swaps they were in (a killed plugin's
// run on alone), does what a user would (`lock release` if the lock is
// left held, a deploy if the fleet does not serve one version) and checks
// the invariants:
//
//   - 0 failed requests on the hosts that stayed up. Each host has its own
//     load. On the host a host fault (partition, dockerd restart, reboot,
//     Traefik killed) hit, requests in flight from the injection until the
//     first request that host served after the fault was healed do not
//     count; every other request of every host counts. The sidecar, the
//     plugin and Ctrl-C are not host faults: all their hosts' requests count.
//   - One version fleet-wide: the new one after a command that succeeded;
//     after one that failed, the old one on every host the fault did not
//     hit (or the new one on every host, after an interrupt that came once
//     all had switched, or after a rollback that failed once every host had
//     switched: only a partial one is undone). After the repair every host
//     serves that version.
//   - The deploy lock is free (after the repair; left held only by a killed
//     plugin or a fault on the host holding it).
//   - No container beyond retention: per host, the serving container, at
//     most one more running (the one it replaced, kept warm out of rotation
//     for sidecar.keep_warm, default 3 minutes) and at most
//     retain_containers stopped ones.
//
// The cycles are drawn from the seed up front (Plan), so a run is replayed
// with the same -seed; what the faults hit in a command still depends on
// timing.
package chaos

// Package bench is `make bench`: it measures docker kamal on harness hosts
// (Docker-in-Docker Debian hosts, see e2e/harness) and reports every figure
// as a median with its spread, every comparison as a ratio measured in the
// same run on the same hosts.
//
// Scenarios (each bounded in time and count, each recorded even when it
// fails):
//
//   - startup: `docker kamal version` against `docker version`
//   - footprint: the sidecar image size and its idle RSS on a host
//   - ship: bytes and time of a one-layer change, pkg/imageship against
//     `docker save | ssh HOST docker load`
//   - naive: stop-then-start behind the same Traefik, under load
//   - zero-downtime: deploy, rollback, never-healthy deploy and slow
//     in-flight requests across cutover, under load
//   - cutover, rollback time, fan-out to 1, 4, 8 and 12 hosts, and the
//     end-to-end deploy of a one-line change with its build
//
// Run writes Results; Write renders them as a table, results.json, SVG
// figures and a README.
package bench

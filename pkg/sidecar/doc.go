// Package sidecar is the daemon on every host that carries out what the
// plugin asks through the contract: its one job is to run zero-downtime
// swaps here (pkg/swap, with Traefik routing from pkg/traefik) and to keep
// what it did in a journal, so that a restarted sidecar finishes or undoes
// an interrupted swap and Traefik always points at a running, healthy
// container.
//
// Around that job it serves the API (apply, rollback, versions, stop and
// start of a role, maintenance mode, Traefik boot, image intake) on a unix
// socket, the deploy lock and audit log, and a read-only monitoring
// listener (health, status, Prometheus metrics). Run wires the real parts
// (NewDeps); the server, reconcile and status logic see them through the
// small interfaces of deps.go, so their unit tests use fakes.
package sidecar

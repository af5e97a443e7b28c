// Package traefik is the only package that knows Traefik v3 (and the only
// importer of github.com/traefik/traefik/v3): it builds file-provider
// dynamic configuration for one service role from the wire spec, writes it
// atomically into the directory Traefik watches, confirms through Traefik's
// API that the new server set is live, and builds the static configuration
// (command-line arguments and container spec) of the Traefik container.
//
// Routing comes from either form of deploy.yml:
//   - Kamal 2 `proxy:` (spec.Proxy hosts, path prefix, rule, TLS with an ACME
//     resolver, ssl redirect, entrypoints, response timeout);
//   - Kamal 1 `traefik.*` labels (spec.Proxy.TraefikLabels), decoded with
//     Traefik's own label decoder so they mean exactly what Traefik says.
//     Their routers, middlewares and services are renamed under the role's
//     name (so roles and destinations never collide in the one file
//     provider), references to them (also "x@docker", as Kamal 1 writes)
//     are rewritten, and every router is pointed at the role's service.
//
// In both forms the role's service has explicit servers (container
// addresses from pkg/swap), never Traefik's docker provider.
//
// One file per service, destination and role: <service>-<role>[-<dest>].yml.
package traefik

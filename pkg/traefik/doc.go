// Package traefik is the only package that writes Traefik configuration:
// it renders a role's file-provider dynamic configuration (the routing the
// plugin built with Traefik's own types in pkg/traefik/routes, plus the
// role's servers), writes it atomically into the directory Traefik watches,
// confirms through Traefik's API that the new server set is live (Dynamic,
// the host's swap.Router), and builds the static configuration
// (command-line arguments and container spec) of the Traefik container
// (Static).
//
// It links none of Traefik's code: it runs inside the sidecar, resident on
// every host, and Traefik's packages cost about 24 MiB at start-up.
//
// Servers are explicit container addresses from pkg/swap, never Traefik's
// docker provider.
//
// One file per service, destination and role: <service>-<role>[-<dest>].yml.
package traefik

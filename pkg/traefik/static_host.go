package traefik

// The Kamal 2 proxy keys Traefik holds per entrypoint or per process, not
// per router: forwarded-header trust, the access log with its headers,
// metrics, debug logging and the addresses ports are published on.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// MetricsEntryPoint serves Prometheus metrics when proxy.run.metrics_port
// is set.
const MetricsEntryPoint = "metrics"

// hostArgs adds h's static flags to args.
func hostArgs(h *contract.HostProxy, args map[string]string) {
	if h == nil {
		return
	}
	if h.TrustForwardedHeaders {
		// Traefik then keeps X-Forwarded-* from the client and appends
		// to X-Forwarded-For, as kamal-proxy does with forward_headers;
		// otherwise it replaces them with what it sees.
		for _, ep := range []string{contract.EntryPointWeb, contract.EntryPointWebSecure} {
			args["entryPoints."+ep+".forwardedHeaders.insecure"] = "true"
		}
	}
	if h.AccessLog {
		args["accessLog"] = "true"
		args["accessLog.format"] = "json"
		args["accessLog.fields.headers.defaultMode"] = "drop"
		for _, k := range slices.Sorted(maps.Keys(h.LogHeaders)) {
			args["accessLog.fields.headers.names."+k] = h.LogHeaders[k]
		}
	}
	if h.MetricsPort > 0 {
		args["entryPoints."+MetricsEntryPoint+".address"] = ":" + strconv.Itoa(h.MetricsPort)
		args["metrics.prometheus"] = "true"
		args["metrics.prometheus.entryPoint"] = MetricsEntryPoint
	}
	if h.Debug {
		args["log.level"] = "DEBUG"
	}
}

// publish returns the -p mappings of a host port onto a container port,
// once per bind address (all addresses when there is none).
func publish(h *contract.HostProxy, hostPort, containerPort int) []string {
	if h == nil || len(h.BindIPs) == 0 {
		return []string{fmt.Sprintf("%d:%d", hostPort, containerPort)}
	}
	var out []string
	for _, ip := range h.BindIPs {
		if len(ip) > 0 && ip[0] != '[' && strings.Contains(ip, ":") {
			ip = "[" + ip + "]" // IPv6, as docker -p wants it
		}
		out = append(out, fmt.Sprintf("%s:%d:%d", ip, hostPort, containerPort))
	}
	return out
}

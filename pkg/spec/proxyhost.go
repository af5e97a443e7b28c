package spec

// Kamal 2 proxy keys that a host's Traefik holds for every app on it:
// proxy.run (ports, publishing, log size, docker options, metrics, debug),
// forward_headers (Traefik trusts forwarded headers per entrypoint) and
// logging (one access log per Traefik). Also the keys refused at load
// because Traefik cannot honour them as Kamal means them.

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// Defaults of the host proxy, as Kamal's.
var (
	// DefaultLogRequestHeaders are logged when a role names none
	// (Kamal's DEFAULT_LOG_REQUEST_HEADERS).
	DefaultLogRequestHeaders = []string{"Cache-Control", "Last-Modified", "User-Agent"}
	// redactedLogHeaders carry credentials: the access log shows that
	// they were sent, never their values.
	redactedLogHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization", "Set-Cookie"}
)

// DefaultProxyLogMaxSize is proxy.run.log_max_size's default.
const DefaultProxyLogMaxSize = "10m"

// proxyRunOptions are the docker options proxy.run.options may set on the
// Traefik container (what pkg/traefik applies, plus label).
var proxyRunOptions = []string{"cpus", "label", "log-driver", "log-opt", "memory", "publish", "restart", "volume"}

// ProxyBoot is how host's Traefik is booted for its Kamal 2 proxy keys.
type ProxyBoot struct {
	// HTTPPort and HTTPSPort as contract.TraefikRequest has them (0:
	// default, -1: not published).
	HTTPPort, HTTPSPort int
	// Options and Labels of the Traefik container.
	Options map[string][]string
	Labels  map[string]string
	// Host is the per-host Traefik settings.
	Host *contract.HostProxy
}

// ProxyBoot returns the Kamal 2 proxy settings of host's Traefik, nil for
// a Kamal 1 config (traefik: applies) or a host without a proxied role.
func (c *Config) ProxyBoot(host string) *ProxyBoot {
	if c.Generation == Kamal1 {
		return nil
	}
	var ps []*ProxyConfig
	for _, r := range c.HostRoles(host) {
		if r.Proxy != nil {
			ps = append(ps, r.Proxy)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	pb := &ProxyBoot{Host: &contract.HostProxy{AccessLog: true, LogHeaders: map[string]string{}}}
	for _, p := range ps {
		pb.Host.TrustForwardedHeaders = pb.Host.TrustForwardedHeaders || forwardHeaders(p)
		req, resp := DefaultLogRequestHeaders, []string(nil)
		if l := p.Logging; l != nil {
			if l.RequestHeaders != nil {
				req = l.RequestHeaders
			}
			resp = l.ResponseHeaders
		}
		for _, h := range append(slices.Clone(req), resp...) {
			// Traefik matches the canonical form (X-Request-ID is logged
			// as X-Request-Id).
			h = http.CanonicalHeaderKey(h)
			mode := "keep"
			if slices.ContainsFunc(redactedLogHeaders, func(r string) bool { return strings.EqualFold(r, h) }) {
				mode = "redact"
			}
			pb.Host.LogHeaders[h] = mode
		}
	}
	pb.Options = map[string][]string{"log-opt": {"max-size=" + DefaultProxyLogMaxSize}}
	if run := ps[0].Run; run != nil { // proxyChecks refused differing runs on one host
		pb.applyRun(run)
	}
	return pb
}

func (pb *ProxyBoot) applyRun(run *ProxyRun) {
	pb.HTTPPort, pb.HTTPSPort = run.HTTPPort, run.HTTPSPort
	if run.Publish != nil && !*run.Publish {
		pb.HTTPPort, pb.HTTPSPort = -1, -1
	}
	pb.Host.BindIPs = run.BindIPs
	pb.Host.MetricsPort = run.MetricsPort
	pb.Host.Debug = run.Debug != nil && *run.Debug
	if run.LogMaxSize != "" {
		pb.Options["log-opt"] = []string{"max-size=" + run.LogMaxSize}
	}
	for _, k := range slices.Sorted(maps.Keys(run.Options)) {
		vs := run.Options[k]
		if k == "label" {
			pb.Labels = map[string]string{}
			for _, kv := range vs {
				lk, lv, _ := strings.Cut(kv, "=")
				pb.Labels[lk] = lv
			}
			continue
		}
		pb.Options[k] = append(pb.Options[k], vs...)
	}
}

// forwardHeaders is kamal-proxy's default: forward unless ssl, unless set.
func forwardHeaders(p *ProxyConfig) bool {
	if p.ForwardHeaders != nil {
		return *p.ForwardHeaders
	}
	return !p.SSL
}

// proxyHostChecks refuses what one Traefik per host cannot do as Kamal
// means it, and the keys Traefik cannot honour at all.
func (b *builder) proxyHostChecks() error {
	c := b.c
	for _, name := range slices.Sorted(maps.Keys(b.raw.Accessories)) {
		if n := b.raw.Accessories[name]; n != nil && n.Kind == yaml.MappingNode {
			if p := mapGet(n, "proxy"); !isNull(p) {
				if err := b.accessoryProxyCheck(name, p); err != nil {
					return err
				}
			}
		}
	}
	if c.Generation == Kamal1 {
		return nil
	}
	for _, host := range c.AllHosts() {
		var firstRole string
		var first bool
		for _, r := range c.HostRoles(host) {
			if r.Proxy == nil {
				continue
			}
			fh := forwardHeaders(r.Proxy)
			if firstRole == "" {
				firstRole, first = r.Name, fh
				continue
			}
			if fh != first {
				return b.t.errAt(b.roleKeyNode(r.Name), "servers."+r.Name+".proxy.forward_headers",
					"roles %s and %s on host %s differ in forward_headers (%v and %v): Traefik trusts X-Forwarded-* per host, not per app; set the same forward_headers on both", firstRole, r.Name, host, first, fh)
			}
		}
	}
	return nil
}

// proxyKeyChecks refuses, with their lines, the keys of one proxy mapping
// that Traefik cannot honour.
func (b *builder) proxyKeyChecks(n *yaml.Node, path string, raw *rawProxy) error {
	if bf := raw.Buffering; bf != nil {
		req := bf.Requests == nil || *bf.Requests
		resp := bf.Responses == nil || *bf.Responses
		if req != resp {
			return b.t.errAt(mapGet(n, "buffering"), path+".buffering", "requests: %v with responses: %v cannot be honoured: Traefik's buffering buffers both or neither; set both the same", req, resp)
		}
		if bf.MaxRequestBody < 0 || bf.MaxResponseBody < 0 || bf.Memory < 0 {
			return b.t.errAt(mapGet(n, "buffering"), path+".buffering", "sizes must not be negative")
		}
	}
	if r := raw.Run; r != nil {
		rn := mapGet(n, "run")
		for _, kv := range [][2]string{{"registry", r.Registry}, {"repository", r.Repository}, {"version", r.Version}} {
			if key, v := kv[0], kv[1]; v != "" {
				return b.t.errAt(mapGet(rn, key), path+".run."+key, "names a kamal-proxy image, but docker kamal runs Traefik; remove it (DOCKER_KAMAL_TRAEFIK_IMAGE sets the Traefik image)")
			}
		}
		for _, k := range slices.Sorted(maps.Keys(r.Options)) {
			if !slices.Contains(proxyRunOptions, k) {
				return b.t.errAt(mapGet(rn, "options"), path+".run.options."+k, "docker option %q is not supported for the proxy container (supported: %s)", k, strings.Join(proxyRunOptions, ", "))
			}
		}
		for _, kv := range r.Options["label"] {
			if k, _, _ := strings.Cut(kv, "="); k == "" {
				return b.t.errAt(mapGet(rn, "options"), path+".run.options.label", "%q must be key=value", kv)
			}
		}
	}
	return nil
}

// DefaultResponseTimeout is proxy.response_timeout's default (Kamal's).
const DefaultResponseTimeout = contract.Duration(30e9)

// applyAppKeys sets the per-app keys Traefik applies per router: path
// prefixes, stripped unless strip_path_prefix is false (kamal-proxy's
// default), and buffering when proxy.buffering turns it on.
func applyAppKeys(p *ProxyConfig, w *contract.Proxy) {
	w.PathPrefixes = append([]string(nil), p.PathPrefixes...)
	w.StripPathPrefix = len(p.PathPrefixes) > 0 && (p.StripPathPrefix == nil || *p.StripPathPrefix)
	if bf := p.Buffering; bf != nil && (bf.Requests == nil || *bf.Requests) {
		w.Buffering = &contract.Buffering{MaxRequestBody: bf.MaxRequestBody, MaxResponseBody: bf.MaxResponseBody, Memory: bf.Memory}
		if w.Buffering.Memory == 0 {
			w.Buffering.Memory = DefaultBufferMemory
		}
	}
}

// DefaultBufferMemory is proxy.buffering.memory's default (kamal-proxy's 1 MB).
const DefaultBufferMemory = 1 << 20

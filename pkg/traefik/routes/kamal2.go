package routes

// Kamal 2 proxy keys that Traefik applies per router, as kamal-proxy
// applies them per app: path prefixes (stripped by default) and buffering.

import (
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"
)

// prefixes are the path prefixes px routes (the list, or an older plugin's
// single PathPrefix).
func prefixes(px *contract.Proxy) []string {
	if len(px.PathPrefixes) > 0 {
		return px.PathPrefixes
	}
	if px.PathPrefix != "" {
		return []string{px.PathPrefix}
	}
	return nil
}

// prefixRule is PathPrefix(`a`) || PathPrefix(`b`), parenthesised when
// there are several, or "".
func prefixRule(px *contract.Proxy) string {
	ps := prefixes(px)
	var parts []string
	for _, p := range ps {
		parts = append(parts, "PathPrefix(`"+p+"`)")
	}
	r := strings.Join(parts, " || ")
	if len(parts) > 1 {
		r = "(" + r + ")"
	}
	return r
}

// appMiddlewares adds the middlewares of px's per-app keys to http and
// returns their names in the order a request passes them: buffering
// first (a too large body is refused before anything else), then prefix
// stripping.
func appMiddlewares(name string, px *contract.Proxy, http *dynamic.HTTPConfiguration) []string {
	var out []string
	if b := px.Buffering; b != nil {
		mw := name + "-buffering"
		buf := &dynamic.Buffering{
			MaxRequestBodyBytes:  b.MaxRequestBody,
			MemRequestBodyBytes:  b.Memory,
			MaxResponseBodyBytes: b.MaxResponseBody,
			MemResponseBodyBytes: b.Memory,
		}
		http.Middlewares[mw] = &dynamic.Middleware{Buffering: buf}
		out = append(out, mw)
	}
	if ps := prefixes(px); len(ps) > 0 && px.StripPathPrefix {
		mw := name + "-strip-prefix"
		http.Middlewares[mw] = &dynamic.Middleware{StripPrefix: &dynamic.StripPrefix{Prefixes: append([]string(nil), ps...)}}
		out = append(out, mw)
	}
	return out
}

package doctor

import (
	"fmt"
	"regexp"
	"strings"
)

// Health checks: a health check is configured, the app answers its path, and
// force_ssl does not redirect the (plain HTTP) probe away.

var checkHealthConfig = Check{
	ID:    "health-config",
	Title: "a health check is configured for every proxied role",
	Run: func(p *Project) []Finding {
		var out []Finding
		for _, r := range p.proxiedRoles() {
			key := p.roleKey(r.Name)
			if p.loc.Has(kp("proxy", "healthcheck")) || p.loc.Has("healthcheck") ||
				p.loc.Has(kp(key, "proxy", "healthcheck")) || p.loc.Has(kp(key, "healthcheck")) {
				continue
			}
			// The default path is the right one when the app routes it:
			// Rails 7.1+ generates /up, and health-route checks the rest.
			if p.Routes != nil && routes(p.Routes, healthPath(r)) {
				continue
			}
			pos := p.at("proxy", "traefik", key)
			out = append(out, Finding{
				Severity: Warn, File: pos.File, Line: pos.Line,
				Message: fmt.Sprintf("role %s has no health check configured; the default GET %s is used", r.Name, healthPath(r)),
				Fix:     "set proxy.healthcheck.path (Kamal 2) or healthcheck.path (Kamal 1) to a route that answers 200 once the app can serve, e.g. /up",
			})
		}
		return out
	},
}

var checkHealthRoute = Check{
	ID:    "health-route",
	Title: "the app routes its health path",
	Run: func(p *Project) []Finding {
		if p.Routes == nil {
			return nil // not Rails, or no routes file to read
		}
		var out []Finding
		for _, path := range p.healthPaths() {
			if routes(p.Routes, path) {
				continue
			}
			out = append(out, Finding{
				Severity: Error, File: p.Routes.Path,
				Message: fmt.Sprintf("no route answers the health check path %s, so no new version will ever become healthy", path),
				Fix:     fmt.Sprintf(`add get %q => "rails/health#show", as: :rails_health_check to config/routes.rb`, strings.TrimPrefix(path, "/")),
			})
		}
		return out
	},
}

var routeVerbRE = regexp.MustCompile(`^\s*(get|match|mount|root)\b`)

// routes reports whether routes.rb maps path (e.g. "/up").
func routes(f *SourceFile, path string) bool {
	seg := regexp.QuoteMeta(strings.TrimPrefix(path, "/"))
	quoted := regexp.MustCompile(`["']/?` + seg + `["']`)
	for _, m := range f.Find(routeVerbRE) {
		if quoted.MatchString(m.Text) {
			return true
		}
	}
	return false
}

var (
	forceSSLRE   = regexp.MustCompile(`^\s*config\.force_ssl\s*=\s*true\b`)
	assumeSSLRE  = regexp.MustCompile(`^\s*config\.assume_ssl\s*=\s*true\b`)
	sslOptionsRE = regexp.MustCompile(`^\s*config\.ssl_options\s*=`)
)

var checkHealthForceSSL = Check{
	ID:    "health-force-ssl",
	Title: "force_ssl does not redirect the health check",
	Run: func(p *Project) []Finding {
		m, ok := p.Production.First(forceSSLRE)
		if !ok {
			return nil
		}
		if _, assumed := p.Production.First(assumeSSLRE); assumed {
			return nil // every request counts as HTTPS: no redirect
		}
		opts := ""
		if o, found := p.Production.First(sslOptionsRE); found {
			opts = p.Production.Statement(o.Line)
		}
		var out []Finding
		for _, path := range p.healthPaths() {
			if strings.Contains(opts, "exclude") && (strings.Contains(opts, `"`+path+`"`) || strings.Contains(opts, `'`+path+`'`)) {
				continue
			}
			out = append(out, Finding{
				Severity: Error, File: p.Production.Path, Line: m.Line,
				Message: fmt.Sprintf("force_ssl redirects the plain-HTTP health check of %s, so it never sees 200", path),
				Fix:     fmt.Sprintf(`add config.ssl_options = { redirect: { exclude: ->(request) { request.path == %q } } }`, path),
			})
		}
		return out
	},
}

package doctor

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// TLS checks: traffic to the app is encrypted and Rails insists on it.

var (
	certResolverLabelRE = regexp.MustCompile(`^traefik\.http\.routers\.[^.]+\.tls\.certresolver$`)
	certResolverArgRE   = regexp.MustCompile(`(?i)^certificatesresolvers\.([^.]+)\.`)
)

// roleTLS reports whether role r gets TLS from the proxy: proxy.ssl (or a
// custom certificate), or Kamal 1 Traefik labels naming a cert resolver that
// traefik.args defines.
func (p *Project) roleTLS(r *spec.Role) (ok bool, undefined string) {
	if r.Proxy == nil {
		return false, ""
	}
	if r.Proxy.SSL || r.Proxy.SSLCertificatePEM != "" {
		return true, ""
	}
	labels := map[string]string{}
	for k, v := range p.Config.Labels {
		labels[k] = v
	}
	for k, v := range r.Labels {
		labels[k] = v
	}
	for k, v := range r.Proxy.TraefikLabels {
		labels[k] = v
	}
	defined := map[string]bool{}
	if t := p.Config.Traefik; t != nil {
		for k := range t.Args {
			if m := certResolverArgRE.FindStringSubmatch(k); m != nil {
				defined[strings.ToLower(m[1])] = true
			}
		}
	}
	for _, k := range sortedKeys(labels) {
		if !certResolverLabelRE.MatchString(k) {
			continue
		}
		if defined[strings.ToLower(labels[k])] {
			return true, ""
		}
		undefined = labels[k]
	}
	return false, undefined
}

var checkTLSProxy = Check{
	ID:    "tls-proxy",
	Title: "the web role is served over TLS",
	Run: func(p *Project) []Finding {
		var out []Finding
		for _, r := range p.proxiedRoles() {
			ok, undefined := p.roleTLS(r)
			if ok {
				continue
			}
			key := p.roleKey(r.Name)
			pos := p.at(kp(key, "proxy"), "proxy", kp(key, "labels"), "labels", key)
			msg := fmt.Sprintf("role %s is served over plain HTTP: no proxy.ssl and no Traefik cert resolver", r.Name)
			if undefined != "" {
				pos = p.at(kp(key, "labels"), "labels", key)
				msg = fmt.Sprintf("role %s's Traefik labels use cert resolver %q, which traefik.args does not define", r.Name, undefined)
			}
			if undefined == "" && len(r.Hosts) > 1 {
				out = append(out, behindLoadBalancer(r, pos))
				continue
			}
			out = append(out, Finding{
				Severity: Warn, File: pos.File, Line: pos.Line,
				Message: msg,
				Fix:     "Kamal 2: set proxy.ssl: true with proxy.host; Kamal 1: label traefik.http.routers.<service>.tls.certresolver: letsencrypt and define certificatesresolvers.letsencrypt.acme.* in traefik.args",
			})
		}
		return out
	},
}

var anyForceSSLRE = regexp.MustCompile(`config\.force_ssl\s*=`)

var checkTLSForceSSL = Check{
	ID:    "tls-force-ssl",
	Title: "Rails sets force_ssl in production",
	Run: func(p *Project) []Finding {
		if p.Production == nil {
			return nil
		}
		if _, ok := p.Production.First(forceSSLRE); ok {
			return nil
		}
		f := Finding{
			Severity: Warn, File: p.Production.Path,
			Message: "config.force_ssl is not set: cookies are not marked secure and HTTP is not redirected to HTTPS",
			Fix:     `set config.assume_ssl = true and config.force_ssl = true, with config.ssl_options = { redirect: { exclude: ->(request) { request.path == "/up" } } }`,
		}
		// Point at the commented-out or false setting, if there is one.
		for i, l := range p.Production.Lines {
			if anyForceSSLRE.MatchString(l) {
				f.Line = i + 1
				break
			}
		}
		return []Finding{f}
	},
}

// behindLoadBalancer is tls-proxy's note for a role on several hosts: an
// automatic (ACME) certificate needs a single host, as Kamal says, so TLS
// there ends at a load balancer in front, which doctor cannot see.
func behindLoadBalancer(r *spec.Role, pos Pos) Finding {
	return Finding{
		Severity: Info, File: pos.File, Line: pos.Line,
		Message: fmt.Sprintf("role %s runs on %d hosts and its proxy serves plain HTTP: TLS must end at a load balancer in front of them", r.Name, len(r.Hosts)),
		Fix:     "terminate TLS at the load balancer (and keep config.assume_ssl and config.force_ssl on in Rails), or give every host the certificate with proxy.ssl.certificate_pem and private_key_pem",
	}
}

package doctor

// The real TLS state: offline, that automatic SSL has its ACME resolver
// configured and a custom certificate is usable; live, that each host
// serves a certificate for the app's name that does not expire soon.

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// certExpiryWarn is how close to its expiry a served certificate is
// reported (Let's Encrypt renews 30 days ahead; 14 means renewal failed).
const certExpiryWarn = 14 * 24 * time.Hour

// traefikDefaultCertCN is the subject of the certificate Traefik serves
// when it has none for the name.
const traefikDefaultCertCN = "TRAEFIK DEFAULT CERT"

var checkTLSResolver = Check{
	ID:    "tls-resolver",
	Title: "an SSL role has its certificate source configured",
	Run: func(p *Project) []Finding {
		c := p.Config
		if c == nil {
			return nil
		}
		var out []Finding
		for _, r := range p.proxiedRoles() {
			px := r.Proxy
			if !px.SSL {
				continue
			}
			key := p.roleKey(r.Name)
			pos := p.at(kp(key, "proxy", "ssl"), kp("proxy", "ssl"), "proxy", key)
			if px.SSLCertificatePEM == "" {
				if a := c.ACME(); a == nil || a.Resolver != spec.DefaultCertResolver {
					out = append(out, Finding{Severity: Error, File: pos.File, Line: pos.Line,
						Message: fmt.Sprintf("role %s has ssl: true but no ACME resolver %s is configured", r.Name, spec.DefaultCertResolver),
						Fix:     "set proxy.host so automatic SSL can obtain a certificate, or give a custom certificate"})
				}
				continue
			}
			for _, h := range r.Hosts {
				certs, err := c.Certificates(h)
				if err != nil {
					out = append(out, Finding{Severity: Error, File: pos.File, Line: pos.Line, Message: err.Error(),
						Fix: "define the certificate_pem and private_key_pem secrets in .kamal/secrets"})
					break
				}
				for _, cert := range certs {
					if cert.CertificatePEM == "" {
						continue // doctor reads no secrets files: unknown here
					}
					if fd := certFinding(cert.CertificatePEM, firstHost(px), time.Now()); fd != nil {
						fd.File, fd.Line = pos.File, pos.Line
						out = append(out, *fd)
					}
				}
				break // the same pair goes to every host of the role
			}
		}
		return out
	},
}

func firstHost(px *spec.ProxyConfig) string {
	if len(px.Hosts) > 0 {
		return px.Hosts[0]
	}
	return ""
}

// certFinding checks the leaf of a PEM chain for name at now: nil when it
// is valid for name and not expiring within certExpiryWarn.
func certFinding(pemText, name string, now time.Time) *Finding {
	blk, _ := pem.Decode([]byte(pemText))
	if blk == nil || blk.Type != "CERTIFICATE" {
		return &Finding{Severity: Error, Message: "no certificate: the PEM holds no CERTIFICATE block", Fix: "check the certificate"}
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return &Finding{Severity: Error, Message: "the certificate does not parse: " + err.Error(), Fix: "check the certificate"}
	}
	switch {
	case leaf.Subject.CommonName == traefikDefaultCertCN:
		return &Finding{Severity: Error, Message: fmt.Sprintf("%s gets Traefik's self-signed default certificate: no certificate was obtained or loaded for it", name),
			Fix: "check docker kamal proxy logs for ACME errors (port 80 reachable, DNS pointing at the host) or the custom certificate"}
	case name != "" && leaf.VerifyHostname(name) != nil:
		return &Finding{Severity: Error, Message: fmt.Sprintf("the certificate is for %s, not %s", strings.Join(leaf.DNSNames, ", "), name),
			Fix: "issue the certificate for the proxy host name"}
	case now.After(leaf.NotAfter):
		return &Finding{Severity: Error, Message: fmt.Sprintf("the certificate for %s expired on %s", name, leaf.NotAfter.UTC().Format(time.DateOnly)),
			Fix: "renew it (automatic SSL renews 30 days ahead: check docker kamal proxy logs)"}
	case leaf.NotAfter.Sub(now) < certExpiryWarn:
		return &Finding{Severity: Warn, Message: fmt.Sprintf("the certificate for %s expires on %s, in less than %d days", name, leaf.NotAfter.UTC().Format(time.DateOnly), int(certExpiryWarn.Hours()/24)),
			Fix: "renew it (automatic SSL renews 30 days ahead: check docker kamal proxy logs)"}
	}
	return nil
}

// liveTLS asks the host's proxy, on the host itself, for the certificate
// of each SSL role's name and checks it.
func liveTLS(p *Project, run func(string) (string, error), host string, now time.Time) []Finding {
	var out []Finding
	f := func(sev Severity, msg, fix string) Finding {
		return Finding{Severity: sev, Check: "live-tls", File: hostFile(host), Message: msg, Fix: fix}
	}
	for _, r := range p.proxiedRoles() {
		px := r.Proxy
		if !px.SSL || !contains(r.Hosts, host) || len(px.Hosts) == 0 {
			continue
		}
		port := proxyPorts(px)[1]
		name := px.Hosts[0]
		got, err := run(servedCertCommand(name, port))
		switch {
		case err != nil:
			out = append(out, f(Warn, fmt.Sprintf("could not ask the proxy for %s's certificate: %v", name, err), "check the proxy on the host (docker kamal proxy details)"))
		case got == "noopenssl":
			out = append(out, f(Info, "openssl is not installed on the host; the served certificate was not checked", "install openssl on the host"))
		case !strings.Contains(got, "BEGIN CERTIFICATE"):
			out = append(out, f(Error, fmt.Sprintf("the proxy serves no certificate for %s on port %d", name, port), "check docker kamal proxy logs"))
		default:
			if fd := certFinding(got, name, now); fd != nil {
				fd.Check, fd.File = "live-tls", hostFile(host)
				out = append(out, *fd)
			}
		}
	}
	return out
}

// servedCertCommand prints, in PEM, the certificate the proxy on the host
// serves for name ("noopenssl" without openssl).
func servedCertCommand(name string, port int) string {
	return "command -v openssl >/dev/null 2>&1 || { echo noopenssl; exit 0; }; " +
		"echo | timeout 10 openssl s_client -connect 127.0.0.1:" + strconv.Itoa(port) + " -servername " + shellQuote(name) +
		" 2>/dev/null | openssl x509 2>/dev/null || true"
}

// proxyPorts are the host's published HTTP and HTTPS ports of the proxy
// (proxy.run http_port, https_port; 80 and 443 by default).
func proxyPorts(px *spec.ProxyConfig) [2]int {
	ports := [2]int{80, 443}
	if px.Run != nil && px.Run.HTTPPort > 0 {
		ports[0] = px.Run.HTTPPort
	}
	if px.Run != nil && px.Run.HTTPSPort > 0 {
		ports[1] = px.Run.HTTPSPort
	}
	return ports
}

package spec

// Custom certificates (proxy.ssl {certificate_pem, private_key_pem}): the
// resolved PEM texts a host's Traefik serves. They leave the plugin only in
// that host's Traefik boot request.

import (
	"fmt"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Certificates returns the custom certificates of the proxied roles on
// host, each pair once, resolved from the secrets.
func (c *Config) Certificates(host string) ([]contract.Certificate, error) {
	var out []contract.Certificate
	seen := map[contract.Certificate]bool{}
	for _, r := range c.HostRoles(host) {
		p := r.Proxy
		if p == nil || p.SSLCertificatePEM == "" {
			continue
		}
		cert, ok := c.secrets[p.SSLCertificatePEM]
		if !ok {
			return nil, fmt.Errorf("certificate of role %s: secret %s is not resolved", r.Name, p.SSLCertificatePEM)
		}
		key, ok := c.secrets[p.SSLPrivateKeyPEM]
		if !ok {
			return nil, fmt.Errorf("certificate of role %s: secret %s is not resolved", r.Name, p.SSLPrivateKeyPEM)
		}
		cc := contract.Certificate{CertificatePEM: cert, PrivateKeyPEM: key}
		if !seen[cc] {
			seen[cc] = true
			out = append(out, cc)
		}
	}
	return out, nil
}

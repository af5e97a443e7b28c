package spec

// Automatic SSL: the ACME certificate resolver that routers of roles with
// proxy.ssl: true (and no custom certificate) name, and the acme: extension
// that sets its account e-mail, directory and trusted CAs.

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// DefaultACMEMailbox is the local part of the default account e-mail,
// at the first automatic-SSL host (RFC 2142's mailbox for web services).
const DefaultACMEMailbox = "webmaster"

// ACMESettings is the acme extension.
type ACMESettings struct {
	// Email is the ACME account e-mail; empty means the default.
	Email string `yaml:"email,omitempty"`
	// Directory is the ACME directory URL; empty means Let's Encrypt
	// production (Traefik's default).
	Directory string `yaml:"directory,omitempty"`
	// CACertificates is the path of a PEM bundle trusted for the
	// directory's own HTTPS, as written in the config.
	CACertificates string `yaml:"ca_certificates,omitempty"`

	// caPEM is the bundle's content, read at load.
	caPEM string
}

type rawACME struct {
	Email          string `kamal:"email"`
	Directory      string `kamal:"directory"`
	CACertificates string `kamal:"ca_certificates"`
}

// ACME returns the certificate resolver to configure on proxy hosts: nil
// unless some role has automatic SSL (proxy.ssl: true without
// certificate_pem). Its e-mail defaults to webmaster@ the first such host.
func (c *Config) ACME() *contract.ACME {
	host := c.firstACMEHost()
	if host == "" {
		return nil
	}
	a := &contract.ACME{Resolver: DefaultCertResolver, Email: DefaultACMEMailbox + "@" + host, Challenge: "http"}
	if s := c.ACMESettings; s != nil {
		if s.Email != "" {
			a.Email = s.Email
		}
		a.CAServer = s.Directory
		a.CACertificates = s.caPEM
	}
	return a
}

// firstACMEHost is the first host name of the first role (in Kamal's order)
// with automatic SSL, or "".
func (c *Config) firstACMEHost() string {
	for _, r := range c.Roles {
		if p := r.Proxy; p != nil && p.SSL && p.SSLCertificatePEM == "" && len(p.Hosts) > 0 {
			return p.Hosts[0]
		}
	}
	return ""
}

// acme reads the acme extension; it is refused when no role would use it.
func (b *builder) acme() error {
	n := b.raw.ACME
	if isNull(n) {
		return nil
	}
	var raw rawACME
	if err := b.d.decodeStruct(n, "acme", reflectValue(&raw)); err != nil {
		return err
	}
	if b.c.firstACMEHost() == "" {
		return b.t.errAt(n, "acme", "no role uses automatic SSL (proxy.ssl: true with a host, without certificate_pem); remove acme: or enable ssl")
	}
	s := &ACMESettings{Email: raw.Email, Directory: raw.Directory, CACertificates: raw.CACertificates}
	if s.Email != "" {
		if a, err := mail.ParseAddress(s.Email); err != nil || a.Address != s.Email {
			return b.t.errAt(mapGet(n, "email"), "acme.email", "%q is not an e-mail address", s.Email)
		}
	}
	if s.Directory != "" {
		if u, err := url.Parse(s.Directory); err != nil || u.Scheme != "https" || u.Host == "" {
			return b.t.errAt(mapGet(n, "directory"), "acme.directory", "%q must be an https:// URL (ACME servers are HTTPS)", s.Directory)
		}
	}
	if s.CACertificates != "" {
		pemText, err := b.readCABundle(s.CACertificates)
		if err != nil {
			return b.t.errAt(mapGet(n, "ca_certificates"), "acme.ca_certificates", "%v", err)
		}
		s.caPEM = pemText
	}
	b.c.ACMESettings = s
	return nil
}

// readCABundle reads a PEM file of CA certificates (relative to the app
// root) and checks that it holds certificates only.
func (b *builder) readCABundle(name string) (string, error) {
	path := name
	if b.opts.Dir != "" && !filepath.IsAbs(path) {
		path = filepath.Join(b.opts.Dir, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		// errText keeps the app root's absolute path out of the message.
		return "", fmt.Errorf("read %s: %s", name, errText(err))
	}
	if len(data) > contract.MaxACMECACertificates {
		return "", fmt.Errorf("%s is larger than %d bytes", name, contract.MaxACMECACertificates)
	}
	count := 0
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return "", fmt.Errorf("%s holds a %s block: only CA certificates belong here", name, blk.Type)
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return "", fmt.Errorf("%s: parse certificate: %w", name, err)
		}
		count++
	}
	if count == 0 {
		return "", fmt.Errorf("%s holds no PEM certificate", name)
	}
	return string(data), nil
}

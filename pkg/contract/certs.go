package contract

// Custom TLS certificates (Kamal's proxy.ssl certificate_pem and
// private_key_pem): they travel in the Traefik boot request of each host
// that runs a role using them, and Traefik serves them by SNI.

import (
	"encoding/pem"
	"fmt"
	"strings"
)

// MaxCertificates bounds TraefikRequest.Certificates.
const MaxCertificates = 32

// MaxCertificatePEM bounds each PEM text of a Certificate.
const MaxCertificatePEM = 64 << 10

// Certificate is a custom certificate with its private key.
type Certificate struct {
	// CertificatePEM is the certificate chain, leaf first, in PEM.
	CertificatePEM string `json:"certificatePEM"`
	// PrivateKeyPEM is the leaf's private key in PEM. A secret: the
	// sidecar writes it to one file of mode 0600 and nowhere else; it is
	// never logged, journaled, audited or returned.
	PrivateKeyPEM string `json:"privateKeyPEM"`
}

// String keeps the key out of anything that formats a Certificate.
func (c Certificate) String() string { return "certificate (key " + Redacted + ")" }

// GoString is String for %#v.
func (c Certificate) GoString() string { return c.String() }

// validate checks the PEM shapes (the sidecar does not parse keys; Traefik
// does, and names a bad one in its log without its content).
func (c Certificate) validate(field string) error {
	if err := pemOf(c.CertificatePEM, func(t string) bool { return t == "CERTIFICATE" }); err != "" {
		return &FieldError{Field: field + ".certificatePEM", Reason: err}
	}
	if err := pemOf(c.PrivateKeyPEM, func(t string) bool { return strings.HasSuffix(t, "PRIVATE KEY") }); err != "" {
		// The reason never quotes the text: it is a key.
		return &FieldError{Field: field + ".privateKeyPEM", Reason: err}
	}
	return nil
}

// pemOf returns "" when s is PEM whose blocks all have a type ok accepts.
func pemOf(s string, ok func(string) bool) string {
	if len(s) > MaxCertificatePEM {
		return fmt.Sprintf("longer than %d bytes", MaxCertificatePEM)
	}
	n := 0
	for rest := []byte(s); ; n++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if !ok(b.Type) {
			return fmt.Sprintf("holds a PEM block of type %q", b.Type)
		}
	}
	if n == 0 {
		return "holds no PEM block"
	}
	return ""
}

func validateCertificates(cs []Certificate) error {
	if len(cs) > MaxCertificates {
		return &FieldError{Field: "certificates", Reason: fmt.Sprintf("more than %d", MaxCertificates)}
	}
	for i, c := range cs {
		if err := c.validate(fmt.Sprintf("certificates[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

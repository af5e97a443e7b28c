package spec

import (
	"context"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// A custom certificate: two hosts allowed (Kamal refuses automatic SSL on
// more than one), no ACME resolver on the routers, the resolved pair only
// in the boot request of the hosts of the role, and the key nowhere in the
// wire spec or the config output.
func TestCustomCertificate(t *testing.T) {
	const key = "-----BEGIN PRIVATE KEY-----\nS3CR3TKEYBYTESAA\n-----END PRIVATE KEY-----"
	const cert = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----"
	dir := writeApp(t, map[string]string{
		"config/deploy.yml": okHead + "servers:\n  web: [1.1.1.1, 2.2.2.2]\n  job:\n    hosts: [3.3.3.3]\n    cmd: run\n" +
			"proxy:\n  host: app.example.org\n  ssl:\n    certificate_pem: CERT\n    private_key_pem: KEY\n",
		".kamal/secrets": "CERT=\"" + cert + "\"\nKEY=\"" + key + "\"\n",
	})
	c, err := Load(context.Background(), LoadOptions{Dir: dir, Env: lookupIn(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if a := c.ACME(); a != nil {
		t.Errorf("ACME() = %+v, want nil: the certificate is the user's", a)
	}
	for _, h := range []string{"1.1.1.1", "2.2.2.2"} {
		d, err := c.Deploy("web", h, "v1", "app:v1", "")
		if err != nil {
			t.Fatal(err)
		}
		if !d.Proxy.TLS || d.Proxy.CertResolver != "" {
			t.Errorf("%s: tls %v resolver %q, want TLS without a resolver", h, d.Proxy.TLS, d.Proxy.CertResolver)
		}
		var b strings.Builder
		if err := d.Encode(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "S3CR3T") {
			t.Errorf("%s: the wire spec holds the key", h)
		}
		certs, err := c.Certificates(h)
		if err != nil {
			t.Fatal(err)
		}
		if len(certs) != 1 || certs[0].CertificatePEM != cert || certs[0].PrivateKeyPEM != key {
			t.Fatalf("%s: Certificates = %d entries, want the resolved pair", h, len(certs))
		}
		req := contract.TraefikRequest{Image: "traefik", Certificates: certs}
		if err := req.Validate(); err != nil {
			t.Fatalf("the sidecar would refuse it: %v", err)
		}
	}
	if certs, err := c.Certificates("3.3.3.3"); err != nil || len(certs) != 0 {
		t.Errorf("job host gets %d certificates (%v), want none: the key goes only where it is served", len(certs), err)
	}
	out, err := c.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "S3CR3T") || !strings.Contains(string(out), "KEY") {
		t.Errorf("config output holds the key or lost its secret name:\n%s", out)
	}
}

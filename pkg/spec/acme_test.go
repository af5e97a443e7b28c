package spec

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// testCAPEM is a fresh self-signed CA certificate in PEM.
func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestACME(t *testing.T) {
	ca := testCAPEM(t)
	const sslHead = okHead + "servers: [1.1.1.1]\nproxy:\n  ssl: true\n  host: app.example.org\n"
	tests := []struct {
		name  string
		files map[string]string
		want  *contract.ACME
	}{
		{name: "no ssl", files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nproxy:\n  host: app.example.org\n"}},
		{name: "custom certificate is not acme",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nproxy:\n  host: app.example.org\n  ssl:\n    certificate_pem: CERT\n    private_key_pem: KEY\n",
				".kamal/secrets": "CERT=c\nKEY=k\n"}},
		{name: "ssl defaults", files: map[string]string{"config/deploy.yml": sslHead},
			want: &contract.ACME{Resolver: "letsencrypt", Email: "webmaster@app.example.org", Challenge: "http"}},
		{name: "role ssl over a proxy-less root",
			files: map[string]string{"config/deploy.yml": okHead + "servers:\n  web:\n    hosts: [1.1.1.1]\n    proxy:\n      ssl: true\n      hosts: [b.example.org, c.example.org]\n"},
			want:  &contract.ACME{Resolver: "letsencrypt", Email: "webmaster@b.example.org", Challenge: "http"}},
		{name: "acme extension",
			files: map[string]string{"config/deploy.yml": sslHead + "acme:\n  email: ops@example.org\n  directory: https://pebble:14000/dir\n  ca_certificates: config/ca.pem\n",
				"config/ca.pem": ca},
			want: &contract.ACME{Resolver: "letsencrypt", Email: "ops@example.org", Challenge: "http", CAServer: "https://pebble:14000/dir", CACertificates: ca}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeApp(t, tc.files)
			c, err := Load(context.Background(), LoadOptions{Dir: dir, Env: lookupIn(nil)})
			if err != nil {
				t.Fatal(err)
			}
			got := c.ACME()
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ACME() = %+v, want %+v", got, tc.want)
			}
			if got != nil {
				req := contract.TraefikRequest{Image: "traefik", ACME: got}
				if err := req.Validate(); err != nil {
					t.Fatalf("the sidecar would refuse it: %v", err)
				}
			}
		})
	}
}

func TestACMEErrors(t *testing.T) {
	const sslHead = okHead + "servers: [1.1.1.1]\nproxy:\n  ssl: true\n  host: app.example.org\n"
	tests := []struct {
		name  string
		files map[string]string
		want  located
	}{
		{name: "unknown key",
			files: map[string]string{"config/deploy.yml": sslHead + "acme:\n  mail: ops@example.org\n"},
			want:  located{"config/deploy.yml", 8, "acme.mail", "unknown key"}},
		{name: "no role uses it",
			files: map[string]string{"config/deploy.yml": okHead + "servers: [1.1.1.1]\nacme:\n  email: ops@example.org\n"},
			want:  located{"config/deploy.yml", 4, "acme", "no role uses automatic SSL (proxy.ssl: true with a host, without certificate_pem); remove acme: or enable ssl"}},
		{name: "bad email",
			files: map[string]string{"config/deploy.yml": sslHead + "acme:\n  email: ops\n"},
			want:  located{"config/deploy.yml", 8, "acme.email", "\"ops\" is not an e-mail address"}},
		{name: "plain http directory",
			files: map[string]string{"config/deploy.yml": sslHead + "acme:\n  directory: http://ca/dir\n"},
			want:  located{"config/deploy.yml", 8, "acme.directory", "\"http://ca/dir\" must be an https:// URL (ACME servers are HTTPS)"}},
		{name: "missing ca file",
			files: map[string]string{"config/deploy.yml": sslHead + "acme:\n  ca_certificates: config/ca.pem\n"},
			want:  located{"config/deploy.yml", 8, "acme.ca_certificates", "read config/ca.pem: file not found"}},
		{name: "key in ca file",
			files: map[string]string{"config/deploy.yml": sslHead + "acme:\n  ca_certificates: ca.pem\n",
				"ca.pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
			want: located{"config/deploy.yml", 8, "acme.ca_certificates", "ca.pem holds a PRIVATE KEY block: only CA certificates belong here"}},
		{name: "no certificate in ca file",
			files: map[string]string{"config/deploy.yml": sslHead + "acme:\n  ca_certificates: ca.pem\n", "ca.pem": "hello\n"},
			want:  located{"config/deploy.yml", 8, "acme.ca_certificates", "ca.pem holds no PEM certificate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeApp(t, tc.files)
			_, err := Load(context.Background(), LoadOptions{Dir: dir, Env: lookupIn(nil)})
			got, ok := locate(err)
			if !ok || got != tc.want {
				t.Fatalf("error %v\n  got  %#v\n  want %#v", err, got, tc.want)
			}
		})
	}
}

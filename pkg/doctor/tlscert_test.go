package doctor

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCert is a self-signed certificate for name valid until notAfter.
// Outside a test (tb nil) a failure panics.
func testCert(tb testing.TB, name string, notAfter time.Time) string {
	fail := func(err error) {
		if tb == nil {
			panic(err)
		}
		tb.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fail(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		fail(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

var tlsEnv = sync.OnceValue(func() map[string]string {
	far := time.Now().Add(365 * 24 * time.Hour)
	return map[string]string{
		"TEST_CERT_WRONG_NAME": testCert(nil, "other.example.com", far),
		"TEST_CERT_SHOP":       testCert(nil, "shop.example.com", far),
		"TEST_CERT_KEY":        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
	}
})

// tlsTestEnv holds the custom certificates of the tls-resolver fixtures.
func tlsTestEnv(k string) (string, bool) {
	v, ok := tlsEnv()[k]
	return v, ok
}

func TestCertFinding(t *testing.T) {
	now := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, pem string
		want      Severity // "" for no finding
		msg       string
	}{
		{"valid", testCert(t, "a.example.com", now.Add(60*24*time.Hour)), "", ""},
		{"expiring in 5 days", testCert(t, "a.example.com", now.Add(5*24*time.Hour)), Warn, "expires on 2027-01-20"},
		{"expired", testCert(t, "a.example.com", now.Add(-time.Hour)), Error, "expired"},
		{"other name", testCert(t, "b.example.com", now.Add(60*24*time.Hour)), Error, "is for b.example.com"},
		{"traefik default", testCert(t, traefikDefaultCertCN, now.Add(60*24*time.Hour)), Error, "self-signed default"},
		{"no pem", "hello", Error, "no CERTIFICATE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := certFinding(tc.pem, "a.example.com", now)
			switch {
			case tc.want == "" && f != nil:
				t.Errorf("finding %v, want none", f)
			case tc.want != "" && (f == nil || f.Severity != tc.want || !strings.Contains(f.Message, tc.msg)):
				t.Errorf("finding %v, want %s with %q", f, tc.want, tc.msg)
			}
		})
	}
}

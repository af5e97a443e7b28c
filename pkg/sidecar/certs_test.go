package sidecar

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

func TestWriteCertificates(t *testing.T) {
	dir := t.TempDir()
	a := contract.Certificate{CertificatePEM: "CERT-A", PrivateKeyPEM: "KEY-A"}
	b := contract.Certificate{CertificatePEM: "CERT-B", PrivateKeyPEM: "KEY-B"}
	if err := writeCertificates(dir, []contract.Certificate{a, b}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TLS struct {
			Certificates []struct{ CertFile, KeyFile string } `json:"certificates"`
		} `json:"tls"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, certsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.TLS.Certificates) != 2 || strings.Contains(string(raw), "KEY-") {
		t.Fatalf("tls file lists %d certificates or holds a key:\n%s", len(doc.TLS.Certificates), raw)
	}
	if st, err := os.Stat(filepath.Join(dir, certsSubdir)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("certs dir: %v %v, want mode 700", st.Mode(), err)
	}
	for i, want := range []contract.Certificate{a, b} {
		e := doc.TLS.Certificates[i]
		local := func(p string) string { return filepath.Join(dir, certsSubdir, filepath.Base(p)) }
		key, err := os.ReadFile(local(e.KeyFile))
		if err != nil || string(key) != want.PrivateKeyPEM {
			t.Errorf("key %d: %q %v", i, key, err)
		}
		if st, err := os.Stat(local(e.KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("key %d mode %v %v, want 600", i, st.Mode(), err)
		}
		if crt, err := os.ReadFile(local(e.CertFile)); err != nil || string(crt) != want.CertificatePEM {
			t.Errorf("cert %d: %q %v", i, crt, err)
		}
		if !strings.HasPrefix(e.CertFile, "/etc/traefik/dynamic/certs/") {
			t.Errorf("cert %d path %s is not Traefik's", i, e.CertFile)
		}
	}
	// A renewal replaces the set; the old files go.
	if err := writeCertificates(dir, []contract.Certificate{b}); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, certsSubdir)); len(ents) != 2 {
		t.Errorf("after replacing the set %d files remain, want 2", len(ents))
	}
	if err := writeCertificates(dir, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, certsFile)); !os.IsNotExist(err) {
		t.Errorf("tls file kept without certificates: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, certsSubdir)); len(ents) != 0 {
		t.Errorf("%d certificate files kept without certificates", len(ents))
	}
}

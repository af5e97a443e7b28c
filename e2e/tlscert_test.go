package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// certHostName is the public name of the custom-certificate app.
const certHostName = "app.kamal-certs.test"

// The custom-certificate app: proxy.ssl names two secrets, on two hosts
// (Kamal refuses automatic SSL on more than one, not custom certificates),
// with the proxy.run keys that change how Traefik is published.
const certDeployYML = `service: kamal-certs
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
      - %[2]s
proxy:
  host: %[3]s
  app_port: 3000
  ssl:
    certificate_pem: CERTIFICATE_PEM
    private_key_pem: PRIVATE_KEY_PEM
  run:
    http_port: 8088
    https_port: 8448
    log_max_size: 5m
    options:
      label:
        - e2e.proxy=custom
env:
  clear:
    PORT: "3000"
readiness_delay: 1
deploy_timeout: 60
drain_timeout: 5
ssh:
  config: %[4]s
`

// TestCustomCertificate deploys an app whose certificate is issued by a CA
// made here to two hosts, checks HTTPS on both against that CA only, and
// that the private key is on each host in one file of mode 0600 and
// nowhere else: not in the plugin's output, `config`, the audit log, the
// sidecar's state or logs, or Traefik's container. proxy.run's ports, log
// size and label show on the Traefik container.
func TestCustomCertificate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	f := harness.SharedFleet(t, 3)
	hosts := f.Hosts[:2]
	roots, certPEM, keyPEM := testCertificate(t, certHostName)
	// A line of the key's base64 body: what a leak would show.
	keyLine := strings.Split(keyPEM, "\n")[1]

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config", "deploy.yml"), fmt.Sprintf(certDeployYML, hosts[0].Addr, hosts[1].Addr, certHostName, f.SSHConfig), 0o644)
	writeFile(t, filepath.Join(dir, ".kamal", "secrets"), fmt.Sprintf("CERTIFICATE_PEM=%q\nPRIVATE_KEY_PEM=%q\n", certPEM, keyPEM), 0o600)
	log := &outputLog{}
	env := []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik}
	kamal := func(args ...string) kamalRun { return plugin.kamal(ctx, dir, env, log, args...) }
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin output:\n%s", log.String())
			out, _ := hosts[0].Docker(context.Background(), "logs", "--tail", "60", "kamal-traefik")
			t.Logf("traefik:\n%s", out)
		}
		// Leave the shared hosts as they were.
		kamal("remove", "-y")
		for _, h := range hosts {
			h.Docker(context.Background(), "rm", "-f", "kamal-sidecar", "kamal-traefik") //nolint:errcheck // best effort on a shared host
			h.Exec(context.Background(), "rm", "-rf", "/var/lib/kamal", "/run/kamal")    //nolint:errcheck // best effort on a shared host
		}
	})

	r := kamal("setup", "--skip-push", "--version", "v1").must(t)
	t.Logf("setup on 2 hosts took %v", r.took.Round(time.Millisecond))

	for _, h := range hosts {
		t.Run("https on "+h.Name, func(t *testing.T) {
			https := tlsClient(h, roots)
			var status int
			var body string
			var last error
			waitUntil(t, 30*time.Second, func() bool {
				resp, err := getResp(ctx, https, "https://"+certHostName+":8448/")
				if last = err; err != nil {
					return false
				}
				defer resp.Body.Close()
				status = resp.StatusCode
				buf := make([]byte, 256)
				n, _ := resp.Body.Read(buf)
				body = string(buf[:n])
				return status == http.StatusOK
			}, func() string {
				return fmt.Sprintf("https://%s:8448/ on %s never verified against the test CA with 200: %d %q %v", certHostName, h.Name, status, body, last)
			})
			if !strings.Contains(body, "v1") {
				t.Errorf("body %q, want v1", body)
			}
			if mode, err := h.Exec(ctx, "sh", "-c", "stat -c %a /var/lib/kamal/traefik/dynamic/certs/*.key"); err != nil || strings.TrimSpace(mode) != "600" {
				t.Errorf("key file mode %q (%v), want one file of mode 600", mode, err)
			}
			// The key's text is in that one file and nowhere else of the
			// sidecar's state (journal, audit log, routing files).
			files, _ := h.Exec(ctx, "sh", "-c", "grep -rlF -- '"+keyLine+"' /var/lib/kamal /run/kamal || true")
			if got := strings.Fields(files); len(got) != 1 || !strings.HasSuffix(got[0], ".key") {
				t.Errorf("files holding the key: %q, want only the .key file", files)
			}
			for _, c := range []string{"kamal-sidecar", "kamal-traefik"} {
				logs, _ := h.Docker(ctx, "logs", c)
				inspect, _ := h.Docker(ctx, "inspect", c)
				if strings.Contains(logs, keyLine) || strings.Contains(inspect, keyLine) {
					t.Errorf("%s's logs or inspect hold the key", c)
				}
			}
			run, err := h.Docker(ctx, "inspect", "--format", `{{json .HostConfig.PortBindings}} {{index .HostConfig.LogConfig.Config "max-size"}} {{index .Config.Labels "e2e.proxy"}}`, "kamal-traefik")
			if err != nil || !strings.Contains(run, `"HostPort":"8088"`) || !strings.Contains(run, `"HostPort":"8448"`) || !strings.HasSuffix(strings.TrimSpace(run), " 5m custom") {
				t.Errorf("Traefik's ports, log size and label: %q (%v); want 8088, 8448, 5m and e2e.proxy=custom", run, err)
			}
			args, _ := h.Docker(ctx, "inspect", "--format", "{{json .Args}}", "kamal-traefik")
			if strings.Contains(strings.ToLower(args), "certificatesresolvers") {
				t.Errorf("Traefik has an ACME resolver with a custom certificate: %s", args)
			}
		})
	}
	// doctor --live reads the certificate each host serves (openssl on
	// the host): for the name, not expiring, so no live-tls finding.
	doc := kamal("doctor", "--live")
	if strings.Contains(doc.out, "live-tls") {
		t.Errorf("doctor --live has a live-tls finding for a valid certificate:\n%s", doc.out)
	}
	cfg := kamal("config").must(t)
	audit := kamal("audit").must(t)
	for name, out := range map[string]string{"config": cfg.out, "audit": audit.out, "doctor": doc.out, "all plugin output": log.String()} {
		if strings.Contains(out, keyLine) {
			t.Errorf("%s holds the private key", name)
		}
	}
	if !strings.Contains(cfg.out, "PRIVATE_KEY_PEM") {
		t.Errorf("config output lost the key's secret name:\n%s", cfg.out)
	}
}

// testCertificate makes a CA and a leaf for name signed by it; it returns
// a pool of the CA and the leaf's certificate and key in PEM. Both are
// valid 60 days: doctor --live warns within 14 days of expiry.
func testCertificate(t testing.TB, name string) (*x509.CertPool, string, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kamal e2e test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(60 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(60 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// tlsHostName is the app's public host name; Pebble's mock DNS resolves
// every name to the harness host.
const tlsHostName = "app.kamal-tls.test"

// The TLS test app: Rails 8's generated shape, proxy ssl: true with a host
// (so ssl_redirect defaults to true), and the acme: extension pointing at
// Pebble. The account e-mail is left to its default.
const tlsDeployYML = `service: kamal-tls
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
proxy:
  ssl: true
  host: %[2]s
  app_port: 3000
  healthcheck:
    path: /up
env:
  clear:
    PORT: "3000"
acme:
  directory: %[3]s
  ca_certificates: config/pebble-api-ca.pem
readiness_delay: 1
deploy_timeout: 60
drain_timeout: 5
ssh:
  config: %[4]s
`

// acmeStorage is Traefik's ACME storage on the host (sidecar state dir).
const acmeStorage = "/var/lib/kamal/traefik/acme/letsencrypt.json"

// TestTLS deploys a proxy ssl: true app against a real ACME server (Pebble)
// and checks the certificate Traefik obtained over HTTP-01, the HTTP to
// HTTPS redirect, that the certificate survives `proxy reboot`, and that a
// deploy and a rollback under HTTPS load fail no request.
func TestTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 1)
	h := f.Hosts[0]
	pb := harness.StartPebble(t, f, h.Addr)

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config", "deploy.yml"), fmt.Sprintf(tlsDeployYML, h.Addr, tlsHostName, pb.Directory, f.SSHConfig), 0o644)
	writeFile(t, filepath.Join(dir, "config", "pebble-api-ca.pem"), string(pb.CAPEM), 0o644)
	log := &outputLog{}
	env := []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik}
	kamal := func(args ...string) kamalRun { return plugin.kamal(ctx, dir, env, log, args...) }
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin output:\n%s", log.String())
			t.Logf("pebble:\n%s", pb.Logs(context.Background()))
			out, _ := h.Docker(context.Background(), "logs", "--tail", "60", "kamal-traefik")
			t.Logf("traefik:\n%s", out)
		}
	})

	r := kamal("setup", "--skip-push", "--version", "v1").must(t)
	t.Logf("setup took %v", r.took.Round(time.Millisecond))

	// Pebble's roots and intermediates are generated at its start; the
	// chain is checked against them, not against anything Traefik sends.
	root := pemPool(t, ctx, pb, "/roots/0")
	inter := pemPool(t, ctx, pb, "/intermediates/0")
	https := tlsClient(h, root)

	var leaf *x509.Certificate
	t0 := time.Now()
	var last error
	waitUntil(t, 2*time.Minute, func() bool {
		leaf, last = servedCert(ctx, https)
		return last == nil
	}, func() string { return fmt.Sprintf("HTTPS never served a certificate issued by Pebble: %v", last) })
	t.Logf("certificate served %v after setup (serial %x)", time.Since(t0).Round(time.Millisecond), leaf.SerialNumber)

	t.Run("certificate issued for the host name", func(t *testing.T) {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: tlsHostName, Roots: root, Intermediates: inter}); err != nil {
			t.Errorf("certificate does not chain to Pebble's root through its intermediate for %s: %v", tlsHostName, err)
		}
		if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != tlsHostName {
			t.Errorf("certificate names %v, want [%s]", leaf.DNSNames, tlsHostName)
		}
		status, body := get(t, ctx, https, "https://"+tlsHostName+"/")
		if status != http.StatusOK || !strings.Contains(body, "v1") {
			t.Errorf("GET https://%s/ = %d %q, want 200 from v1", tlsHostName, status, body)
		}
		// The storage is Traefik's, on the host under the sidecar state,
		// private; the CA bundle for Pebble's API sits beside it.
		if mode, err := h.Exec(ctx, "stat", "-c", "%a", acmeStorage); err != nil || mode != "600" {
			t.Errorf("%s: mode %q, %v; want 600", acmeStorage, mode, err)
		}
		if ls, err := h.Exec(ctx, "sh", "-c", "ls /var/lib/kamal/traefik/acme/letsencrypt-ca-*.pem"); err != nil || ls == "" {
			t.Errorf("no CA bundle in the ACME dir: %q, %v", ls, err)
		}
	})

	t.Run("HTTP redirects to HTTPS, /up included as kamal-proxy does", func(t *testing.T) {
		plain := &http.Client{Timeout: 10 * time.Second, Transport: hostTransport(h, nil),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, path := range []string{"/", "/up", "/version?x=1"} {
			resp, err := getResp(ctx, plain, "http://"+tlsHostName+path)
			if err != nil {
				t.Fatalf("GET http://%s%s: %v", tlsHostName, path, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMovedPermanently && resp.StatusCode != http.StatusPermanentRedirect {
				t.Errorf("GET http://%s%s = %d, want a permanent redirect", tlsHostName, path, resp.StatusCode)
			}
			if loc, want := resp.Header.Get("Location"), "https://"+tlsHostName+path; loc != want {
				t.Errorf("GET http://%s%s redirects to %q, want %q", tlsHostName, path, loc, want)
			}
		}
	})

	t.Run("certificate survives proxy reboot", func(t *testing.T) {
		before, err := h.Docker(ctx, "inspect", "--format", "{{.Id}}", "kamal-traefik")
		if err != nil {
			t.Fatal(err)
		}
		kamal("proxy", "reboot", "-y").must(t)
		after, err := h.Docker(ctx, "inspect", "--format", "{{.Id}}", "kamal-traefik")
		if err != nil {
			t.Fatal(err)
		}
		if after == before {
			t.Fatalf("proxy reboot kept the Traefik container %s", before)
		}
		var again *x509.Certificate
		waitUntil(t, time.Minute, func() bool {
			again, last = servedCert(ctx, https)
			return last == nil
		}, func() string { return fmt.Sprintf("HTTPS never came back after proxy reboot: %v", last) })
		if again.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
			t.Errorf("after proxy reboot the serial is %x, want %x (the stored certificate)", again.SerialNumber, leaf.SerialNumber)
		}
		if n := strings.Count(pb.Logs(ctx), "Issued certificate serial"); n != 1 {
			t.Errorf("Pebble issued %d certificates, want 1", n)
		}
	})

	t.Run("deploy and rollback under HTTPS load", func(t *testing.T) {
		if _, err := harness.BuildSampleApp(ctx, "v2"); err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			args    []string
			version string
		}{{[]string{"deploy", "--skip-push", "--version", "v2"}, "v2"}, {[]string{"rollback", "v1"}, "v1"}} {
			g, err := loadgen.Start(ctx, loadgen.Config{
				URL: "https://" + h.Addr.String() + "/", Host: tlsHostName, Rate: 50, Duration: 5 * time.Minute, Count: 15000,
				Allow: []netip.Prefix{f.Subnet}, TLS: &tls.Config{RootCAs: root, ServerName: tlsHostName},
			})
			if err != nil {
				t.Fatal(err)
			}
			r := kamal(step.args...)
			rep := g.Stop()
			r.must(t)
			s := rep.Summary
			t.Logf("%s took %v; HTTPS load: %d requests, %d ok, %d non-2xx, %d errors, p99 %v",
				strings.Join(step.args, " "), r.took.Round(time.Millisecond), s.Total, s.OK, s.Non2xx, s.Errors, s.P99)
			if s.Total == 0 || s.Non2xx != 0 || s.Errors != 0 {
				t.Errorf("%s: want every HTTPS request 2xx:\n%s", step.args[0], s)
			}
			if n := len(rep.Results); n == 0 || rep.Results[n-1].Version != step.version {
				t.Errorf("%s: the load's last answer was not from %s", step.args[0], step.version)
			}
		}
		if _, body := get(t, ctx, https, "https://"+tlsHostName+"/"); !strings.Contains(body, "v1") {
			t.Errorf("after rollback the app answers %q, want v1", body)
		}
		if n := strings.Count(pb.Logs(ctx), "Issued certificate serial"); n != 1 {
			t.Errorf("Pebble issued %d certificates, want 1: deploys reuse the stored one", n)
		}
	})
}

// pemPool fetches PEM certificates from Pebble's management API.
func pemPool(t testing.TB, ctx context.Context, pb *harness.Pebble, path string) *x509.CertPool {
	t.Helper()
	body, err := pb.Management(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(body) {
		t.Fatalf("pebble %s holds no PEM certificate", path)
	}
	return pool
}

// hostTransport dials the harness host whatever the URL's host, so URLs can
// carry the public host name (Host header and SNI) as a browser's would.
func hostTransport(h *harness.Host, roots *x509.CertPool) *http.Transport {
	d := &net.Dialer{Timeout: 3 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, net.JoinHostPort(h.Addr.String(), port))
		},
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DisableKeepAlives: true,
	}
}

// tlsClient is an HTTPS client for the harness host trusting roots only.
func tlsClient(h *harness.Host, roots *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: hostTransport(h, roots)}
}

// servedCert does one HTTPS request to the public host name (verified
// against the client's roots) and returns the leaf certificate served.
func servedCert(ctx context.Context, c *http.Client) (*x509.Certificate, error) {
	resp, err := getResp(ctx, c, "https://"+tlsHostName+"/up")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return nil, errors.New("no TLS peer certificate")
	}
	return resp.TLS.PeerCertificates[0], nil
}

func getResp(ctx context.Context, c *http.Client, url string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

// cancelOnClose releases a request's context with its body.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// get does one bounded GET with c and returns status and body.
func get(t testing.TB, ctx context.Context, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := getResp(ctx, c, url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(body)
}

package harness

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Pebble tunables.
var (
	// PebbleReadyTimeout bounds the wait for Pebble's management API.
	PebbleReadyTimeout = 30 * time.Second
	// pebbleHostNum is Pebble's address on the fleet network (.6; the
	// registry is .5, hosts .11 and up).
	pebbleHostNum = 6
)

// PebbleImage returns an image of Debian's pebble package (Pebble 2.4.0 and
// pebble-challtestsrv in bookworm), tagged kamal-e2e-pebble.
func PebbleImage(ctx context.Context) (string, error) {
	base, err := rootfsImage(ctx, "pebble", bookworm, "pebble")
	if err != nil {
		return "", err
	}
	h, err := recipeHash([]string{"pebble"}, base)
	if err != nil {
		return "", err
	}
	pinned := "kamal-e2e-pebble:" + h
	if _, err := ensure(ctx, pinned, func() error {
		return dockerBuild(ctx, "pebble", map[string]string{"BASE": base}, pinned)
	}); err != nil {
		return "", err
	}
	return tagAlias(ctx, pinned, "kamal-e2e-pebble:latest")
}

// Pebble is an ACME server on a fleet's network. Its mock DNS answers
// every name with one address (a harness host), so HTTP-01 validation of
// any host name reaches that host's port 80.
type Pebble struct {
	// Container is the Pebble container's name on the machine.
	Container string
	// Addr is its address on the fleet network.
	Addr netip.Addr
	// Directory is the ACME directory URL.
	Directory string
	// CAPEM is the CA of Pebble's own HTTPS certificate (API and
	// management), for clients of the ACME API.
	CAPEM []byte
	// caPool holds CAPEM.
	caPool *x509.CertPool
}

// StartPebble starts Pebble for the fleet, resolving every host name to
// resolveTo; t.Cleanup removes it.
func StartPebble(t testing.TB, f *Fleet, resolveTo netip.Addr) *Pebble {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	p, err := f.StartPebble(ctx, resolveTo)
	if p != nil {
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := docker(cctx, "rm", "-f", p.Container); err != nil {
				t.Errorf("remove pebble: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("start pebble: %v", err)
	}
	return p
}

// StartPebble is StartPebble for non-test use. On error the returned
// Pebble (possibly non-nil) must still be removed.
func (f *Fleet) StartPebble(ctx context.Context, resolveTo netip.Addr) (*Pebble, error) {
	image, err := PebbleImage(ctx)
	if err != nil {
		return nil, err
	}
	p := &Pebble{Container: "kamal-e2e-" + f.RunID + "-pebble", Addr: nthAddr(f.Subnet, pebbleHostNum)}
	p.Directory = "https://" + p.Addr.String() + ":14000/dir"
	certPEM, keyPEM, caPEM, err := pebbleServerCert(p.Addr)
	if err != nil {
		return nil, err
	}
	p.CAPEM = caPEM
	p.caPool = x509.NewCertPool()
	p.caPool.AppendCertsFromPEM(caPEM)
	dir, err := os.MkdirTemp(f.Dir, "pebble-")
	if err != nil {
		return nil, fmt.Errorf("pebble cert dir: %w", err)
	}
	defer os.RemoveAll(dir)
	for name, body := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return nil, fmt.Errorf("write pebble %s: %w", name, err)
		}
	}
	args := append([]string{"create", "--name", p.Container, "--network", f.Network, "--ip", p.Addr.String(),
		"-e", "PEBBLE_DNS_IPV4=" + resolveTo.String()}, f.labels()...)
	if _, err := docker(ctx, append(args, image)...); err != nil {
		return nil, fmt.Errorf("create pebble: %w", err)
	}
	for _, name := range []string{"cert.pem", "key.pem"} {
		if _, err := docker(ctx, "cp", filepath.Join(dir, name), p.Container+":/etc/pebble/"+name); err != nil {
			return p, fmt.Errorf("copy %s into pebble: %w", name, err)
		}
	}
	if _, err := docker(ctx, "start", p.Container); err != nil {
		return p, fmt.Errorf("start pebble: %w", err)
	}
	return p, p.waitReady(ctx)
}

// Client is an HTTPS client trusting Pebble's API certificate.
func (p *Pebble) Client() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: p.caPool},
		DialContext:     (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	}}
}

// Management GETs path ("/roots/0", "/intermediates/0") from Pebble's
// management API and returns the body.
func (p *Pebble) Management(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+p.Addr.String()+":15000"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.Client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("pebble management %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("pebble management %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("pebble management %s: %s", path, resp.Status)
	}
	return body, nil
}

// Logs returns the tail of Pebble's output (for failure messages).
func (p *Pebble) Logs(ctx context.Context) string {
	out, err := docker(ctx, "logs", "--tail", "60", p.Container)
	if err != nil {
		return err.Error()
	}
	return out
}

// waitReady polls the management API's /roots/0 until it answers.
func (p *Pebble) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, PebbleReadyTimeout)
	defer cancel()
	var last error
	for {
		if _, err := p.Management(ctx, "/roots/0"); err == nil {
			return nil
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for pebble at %s: %w (last: %v)\n%s", p.Addr, ctx.Err(), last, p.Logs(context.Background()))
		case <-time.After(pollInterval):
		}
	}
}

// pebbleServerCert makes a throwaway CA and, signed by it, Pebble's HTTPS
// certificate for addr; it returns cert, key and CA in PEM.
func pebbleServerCert(addr netip.Addr) (certPEM, keyPEM, caPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pebble ca key: %w", err)
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kamal-e2e pebble api ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pebble ca: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pebble key: %w", err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "pebble"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"pebble"},
		IPAddresses: []net.IP{net.IP(addr.AsSlice())}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pebble cert: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("pebble key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

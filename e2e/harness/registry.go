package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/ssh"
)

// RegistryVersion is the distribution release built from its Go module.
const RegistryVersion = "3.1.2"

// Registry tunables.
var (
	// RegistryReadyTimeout bounds the wait for the registry's first answer.
	RegistryReadyTimeout = 30 * time.Second
	// registryHostNum is the registry's address on the fleet network (.5;
	// hosts are at .11 and up).
	registryHostNum = 5
)

// RegistryImage returns the registry image built from its Go module (FROM
// scratch, /registry serving HTTP on :5000 with htpasswd auth from
// /auth/htpasswd), tagged kamal-e2e-registry:3.1.2. The first build takes a
// few minutes; the binary is cached under CacheDir.
func RegistryImage(ctx context.Context) (string, error) {
	h, err := recipeHash([]string{"build-registry.sh"}, RegistryVersion)
	if err != nil {
		return "", err
	}
	pinned := "kamal-e2e-registry:" + RegistryVersion + "-" + h
	if _, err := ensure(ctx, pinned, func() error {
		cmd := exec.CommandContext(ctx, filepath.Join(ImagesDir(), "build-registry.sh"), pinned)
		cmd.Env = append(os.Environ(), "KAMAL_E2E_CACHE="+CacheDir(), "REGISTRY_VERSION="+RegistryVersion)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &CommandError{Args: []string{"build-registry.sh", pinned}, Stdout: string(out), Err: err}
		}
		return nil
	}); err != nil {
		return "", err
	}
	return tagAlias(ctx, pinned, "kamal-e2e-registry:"+RegistryVersion)
}

// Registry is a registry container on a fleet's network with htpasswd auth.
// It is published on the machine's loopback, and each host's loopback port
// of the same number is tunnelled to it over SSH (a remote forward), so one
// image name, Server + "/repo:tag", works for the machine's push and every
// host's pull, and both engines treat it as insecure (plain HTTP) by their
// default 127.0.0.0/8 rule.
type Registry struct {
	// Container is the registry container's name on the machine.
	Container string
	// Addr is its address on the fleet network (port 5000).
	Addr netip.Addr
	// Server is "127.0.0.1:PORT", valid on the machine and on every host.
	Server string
	// Username and Password are the htpasswd credentials.
	Username, Password string

	tunnels []*tunnel
}

// tunnel is one host's remote forward.
type tunnel struct {
	host   string
	client *ssh.Client
	ln     net.Listener
	bytes  atomic.Int64 // registry to host
	conns  atomic.Int64
	wg     sync.WaitGroup
}

// StartRegistry starts a registry for the fleet with the given credentials
// and tunnels every host to it; t.Cleanup removes it.
func StartRegistry(t testing.TB, f *Fleet, username, password string) *Registry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	r, err := f.StartRegistry(ctx, username, password)
	if r != nil {
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := r.Close(cctx); err != nil {
				t.Errorf("remove registry: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("start registry: %v", err)
	}
	return r
}

// StartRegistry is StartRegistry for non-test use. On error the returned
// Registry (possibly non-nil) must still be closed.
func (f *Fleet) StartRegistry(ctx context.Context, username, password string) (*Registry, error) {
	image, err := RegistryImage(ctx)
	if err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash registry password: %w", err)
	}
	htpasswd := filepath.Join(f.Dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(username+":"+string(hash)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write htpasswd: %w", err)
	}
	r := &Registry{
		Container: "kamal-e2e-" + f.RunID + "-registry",
		Addr:      nthAddr(f.Subnet, registryHostNum),
		Username:  username, Password: password,
	}
	args := append([]string{"create", "--name", r.Container, "--network", f.Network, "--ip", r.Addr.String(),
		"-p", "127.0.0.1::5000"}, f.labels()...)
	if _, err := docker(ctx, append(args, image)...); err != nil {
		return nil, fmt.Errorf("create registry: %w", err)
	}
	if _, err := docker(ctx, "cp", htpasswd, r.Container+":/auth/htpasswd"); err != nil {
		return r, fmt.Errorf("copy htpasswd into the registry: %w", err)
	}
	if _, err := docker(ctx, "start", r.Container); err != nil {
		return r, fmt.Errorf("start registry: %w", err)
	}
	port, err := docker(ctx, "port", r.Container, "5000/tcp")
	if err != nil {
		return r, fmt.Errorf("registry port: %w", err)
	}
	r.Server = strings.TrimSpace(strings.Split(port, "\n")[0])
	if err := r.waitReady(ctx); err != nil {
		return r, err
	}
	_, portStr, _ := net.SplitHostPort(r.Server)
	for _, h := range f.Hosts {
		tn, err := r.tunnel(ctx, h, portStr)
		if err != nil {
			return r, err
		}
		r.tunnels = append(r.tunnels, tn)
	}
	return r, nil
}

// waitReady polls GET /v2/ until the registry answers 401 (auth required).
func (r *Registry) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, RegistryReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Server+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			err = fmt.Errorf("GET /v2/: %s, want 401 (auth required)", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			logs, _ := docker(context.Background(), "logs", "--tail", "20", r.Container)
			return fmt.Errorf("wait for registry at %s: %w (last: %v)\n%s", r.Server, ctx.Err(), last, logs)
		case <-time.After(pollInterval):
		}
	}
}

// tunnel listens on the host's 127.0.0.1:port over SSH and forwards each
// connection to the registry's fleet address.
func (r *Registry) tunnel(ctx context.Context, h *Host, port string) (*tunnel, error) {
	c, err := h.SSH(ctx)
	if err != nil {
		return nil, err
	}
	ln, err := c.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("forward 127.0.0.1:%s on %s to the registry: %w", port, h.Name, err)
	}
	tn := &tunnel{host: h.Name, client: c, ln: ln}
	target := net.JoinHostPort(r.Addr.String(), "5000")
	tn.wg.Add(1)
	go func() {
		defer tn.wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return // listener closed
			}
			tn.conns.Add(1)
			tn.wg.Add(1)
			go func() {
				defer tn.wg.Done()
				tn.forward(in, target)
			}()
		}
	}()
	return tn, nil
}

// forward copies between a host's connection and the registry.
func (tn *tunnel) forward(in net.Conn, target string) {
	defer in.Close()
	out, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		return
	}
	defer out.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(out, in) //nolint:errcheck // a closed side ends the copy
		// The host hung up (or the tunnel closed): end the registry side
		// too, so the copy below returns.
		out.Close()
	}()
	n, _ := io.Copy(in, out)
	tn.bytes.Add(n)
	in.Close()
	<-done
}

// PulledBytes is how many bytes the registry sent to the named host
// ("host1") through its tunnel, and over how many connections.
func (r *Registry) PulledBytes(host string) (bytes, conns int64) {
	for _, tn := range r.tunnels {
		if tn.host == host {
			return tn.bytes.Load(), tn.conns.Load()
		}
	}
	return 0, 0
}

// Logs returns the registry's log (its access log included).
func (r *Registry) Logs(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", "logs", r.Container)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("registry logs: %w: %s", err, out)
	}
	return string(out), nil
}

// Close ends the tunnels and removes the registry container.
func (r *Registry) Close(ctx context.Context) error {
	var errs []error
	for _, tn := range r.tunnels {
		tn.ln.Close()
		tn.client.Close()
		tn.wg.Wait()
	}
	r.tunnels = nil
	if _, err := docker(ctx, "rm", "-f", "-v", r.Container); err != nil && !isNotFound(err) {
		errs = append(errs, fmt.Errorf("remove registry: %w", err))
	}
	return errors.Join(errs...)
}

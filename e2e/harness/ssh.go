package harness

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }

// HostKeys reads the host's SSH public host keys from inside the host.
func (h *Host) HostKeys(ctx context.Context) ([]ssh.PublicKey, error) {
	out, err := h.Exec(ctx, "sh", "-c", "cat /etc/ssh/ssh_host_*_key.pub")
	if err != nil {
		return nil, fmt.Errorf("read host keys of %s: %w", h.Name, err)
	}
	var keys []ssh.PublicKey
	rest := []byte(out)
	for len(bytes.TrimSpace(rest)) > 0 {
		k, _, _, r, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			return nil, fmt.Errorf("parse host keys of %s: %w", h.Name, err)
		}
		keys = append(keys, k)
		rest = r
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("read host keys of %s: none found", h.Name)
	}
	return keys, nil
}

// writeSSHFiles writes known_hosts and ssh_config for every host.
func (f *Fleet) writeSSHFiles(ctx context.Context) error {
	var kh, cfg strings.Builder
	for _, h := range f.Hosts {
		keys, err := h.HostKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(&kh, "%s,%s %s", h.Name, h.Addr, ssh.MarshalAuthorizedKey(k))
		}
		fmt.Fprintf(&cfg, "Host %s %s\n  HostName %s\n  Port %d\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n\n",
			h.Name, h.Addr, h.Addr, h.SSHPort, f.IdentityFile, f.KnownHosts)
	}
	if err := os.WriteFile(f.KnownHosts, []byte(kh.String()), 0o644); err != nil {
		return fmt.Errorf("write known_hosts: %w", err)
	}
	if err := os.WriteFile(f.SSHConfig, []byte(cfg.String()), 0o644); err != nil {
		return fmt.Errorf("write ssh_config: %w", err)
	}
	return nil
}

// dialSSH makes an SSH connection as root, checking the host key against the
// keys read from inside the host.
func (h *Host) dialSSH(ctx context.Context, timeout time.Duration) (*ssh.Client, error) {
	keys, err := h.HostKeys(ctx)
	if err != nil {
		return nil, err
	}
	check := func(_ string, _ net.Addr, key ssh.PublicKey) error {
		for _, k := range keys {
			if bytes.Equal(k.Marshal(), key.Marshal()) {
				return nil
			}
		}
		return fmt.Errorf("unknown host key %s", ssh.FingerprintSHA256(key))
	}
	return h.dial(ctx, check, timeout)
}

func (h *Host) dial(ctx context.Context, check ssh.HostKeyCallback, timeout time.Duration) (*ssh.Client, error) {
	cfg := &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(h.fleet.Signer)},
		HostKeyCallback: check,
		Timeout:         timeout,
	}
	addr := net.JoinHostPort(h.Addr.String(), strconv.Itoa(h.SSHPort))
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		conn.Close()
		return nil, err
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh handshake with %s: %w", addr, err)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, err
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// SSH connects to the host as root with the fleet's identity, checking the
// host key against the generated known_hosts file (strict).
func (h *Host) SSH(ctx context.Context) (*ssh.Client, error) {
	check, err := knownhosts.New(h.fleet.KnownHosts)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}
	c, err := h.dial(ctx, check, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("ssh to %s: %w", h.Name, err)
	}
	return c, nil
}

// RunSSH runs cmd on the host over a new SSH connection and returns its
// combined output.
func (h *Host) RunSSH(ctx context.Context, cmd string) (string, error) {
	c, err := h.SSH(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return "", fmt.Errorf("ssh session on %s: %w", h.Name, err)
	}
	defer s.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			c.Close()
		case <-done:
		}
	}()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		return string(out), fmt.Errorf("ssh %s %q: %w: %s", h.Name, cmd, err, out)
	}
	return string(out), nil
}

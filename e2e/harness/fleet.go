package harness

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Labels put on everything the harness creates, so Sweep can find leftovers.
const (
	// Label marks every harness container, network and volume.
	Label = "kamal-e2e"
	// LabelRun holds the run (fleet) id.
	LabelRun = "kamal-e2e.run"
	// LabelOwner holds "PID-STARTTIME" of the process that created the
	// object; Sweep removes objects whose creator is gone.
	LabelOwner = "kamal-e2e.owner"
)

// Tunables.
var (
	// ReadyTimeout bounds the wait for a host's sshd and dockerd.
	ReadyTimeout = 60 * time.Second
	// pollInterval is the delay between readiness probes.
	pollInterval = 100 * time.Millisecond
)

// Fleet is a set of harness hosts on one private Docker network.
type Fleet struct {
	// RunID is unique per fleet; it prefixes container and network names.
	RunID string
	// Network is the Docker network name; Subnet its address range.
	Network string
	Subnet  netip.Prefix
	// Hosts are the hosts, Hosts[0] first ("host1").
	Hosts []*Host

	// Dir holds the SSH files below (a temp dir removed by Close).
	Dir string
	// IdentityFile is the client's private key (ed25519, OpenSSH format).
	IdentityFile string
	// KnownHosts lists every host key of every host, by name and address.
	KnownHosts string
	// SSHConfig has a Host entry per host (name and address) with HostName,
	// User root, IdentityFile and UserKnownHostsFile, as in ~/.ssh/config.
	SSHConfig string
	// Signer is the client key, for golang.org/x/crypto/ssh.
	Signer ssh.Signer

	image     string
	closeOnce sync.Once
	closeErr  error
}

// Host is one harness host: a container running sshd and its own dockerd.
type Host struct {
	// Name is the short name used in ssh_config ("host1").
	Name string
	// Container is the Docker container name on the machine.
	Container string
	// Addr is the fixed IPv4 address on the fleet network.
	Addr netip.Addr
	// SSHPort is 22.
	SSHPort int
	// Volume is the Docker volume holding the host's /var/lib/docker.
	Volume string

	fleet *Fleet
}

// StartHosts starts n hosts and registers their removal with t.Cleanup. It
// fails the test when they cannot be started.
func StartHosts(t testing.TB, n int) *Fleet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	f, err := NewFleet(ctx, n)
	if f != nil {
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := f.Close(cctx); err != nil {
				t.Errorf("remove harness hosts: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatalf("start %d harness hosts: %v", n, err)
	}
	return f
}

// NewFleet starts n hosts, building the host image first if needed, and
// returns once every host answers SSH and docker. On error the returned
// Fleet (possibly non-nil) must still be closed.
func NewFleet(ctx context.Context, n int) (*Fleet, error) {
	if n < 1 || n > 200 {
		return nil, fmt.Errorf("start fleet: n = %d, want 1..200", n)
	}
	if err := CheckDocker(ctx); err != nil {
		return nil, err
	}
	image, err := HostImage(ctx)
	if err != nil {
		return nil, err
	}
	f := &Fleet{RunID: newRunID(), image: image}
	if err := f.setupSSH(); err != nil {
		return f, err
	}
	if err := f.createNetwork(ctx); err != nil {
		return f, err
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("host%d", i)
		f.Hosts = append(f.Hosts, &Host{
			Name:      name,
			Container: "kamal-e2e-" + f.RunID + "-" + name,
			Volume:    "kamal-e2e-" + f.RunID + "-" + name + "-docker",
			Addr:      nthAddr(f.Subnet, 10+i),
			SSHPort:   22,
			fleet:     f,
		})
	}
	if err := f.each(func(h *Host) error { return h.create(ctx) }); err != nil {
		return f, err
	}
	if err := f.each(func(h *Host) error { return h.WaitReady(ctx) }); err != nil {
		return f, err
	}
	if err := f.writeSSHFiles(ctx); err != nil {
		return f, err
	}
	return f, nil
}

// each runs fn on every host in parallel and joins the errors.
func (f *Fleet) each(fn func(h *Host) error) error {
	errs := make([]error, len(f.Hosts))
	var wg sync.WaitGroup
	for i, h := range f.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(h)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Host returns the host named name ("host1") or nil.
func (f *Fleet) Host(name string) *Host {
	for _, h := range f.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Addrs returns the hosts' addresses as strings, in order.
func (f *Fleet) Addrs() []string {
	out := make([]string, len(f.Hosts))
	for i, h := range f.Hosts {
		out[i] = h.Addr.String()
	}
	return out
}

// Close removes the hosts, their volumes, the network and the SSH files.
// It is safe to call more than once.
func (f *Fleet) Close(ctx context.Context) error {
	f.closeOnce.Do(func() {
		var errs []error
		if err := removeByLabel(ctx, LabelRun+"="+f.RunID); err != nil {
			errs = append(errs, err)
		}
		if f.Dir != "" {
			if err := os.RemoveAll(f.Dir); err != nil {
				errs = append(errs, fmt.Errorf("remove ssh dir: %w", err))
			}
		}
		f.closeErr = errors.Join(errs...)
	})
	return f.closeErr
}

func (f *Fleet) labels() []string {
	return []string{
		"--label", Label + "=1",
		"--label", LabelRun + "=" + f.RunID,
		"--label", LabelOwner + "=" + owner(),
	}
}

// createNetwork creates the fleet's bridge network on a free 10.213.X.0/24.
func (f *Fleet) createNetwork(ctx context.Context) error {
	f.Network = "kamal-e2e-" + f.RunID
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		x, err := rand.Int(rand.Reader, big.NewInt(250))
		if err != nil {
			return fmt.Errorf("pick subnet: %w", err)
		}
		subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, byte(x.Int64() + 2), 0}), 24)
		args := append([]string{"network", "create", "--driver", "bridge",
			"--subnet", subnet.String(), "--gateway", nthAddr(subnet, 1).String()}, f.labels()...)
		args = append(args, f.Network)
		if _, err := docker(ctx, args...); err != nil {
			lastErr = err
			if strings.Contains(err.Error(), "overlap") {
				continue
			}
			return fmt.Errorf("create network %s: %w", f.Network, err)
		}
		f.Subnet = subnet
		return nil
	}
	return fmt.Errorf("create network %s: no free subnet: %w", f.Network, lastErr)
}

func nthAddr(p netip.Prefix, n int) netip.Addr {
	a := p.Addr().As4()
	a[3] = byte(n)
	return netip.AddrFrom4(a)
}

// create starts the host container.
func (h *Host) create(ctx context.Context) error {
	f := h.fleet
	vargs := append([]string{"volume", "create"}, f.labels()...)
	if _, err := docker(ctx, append(vargs, h.Volume)...); err != nil {
		return fmt.Errorf("create volume for %s: %w", h.Name, err)
	}
	args := []string{"run", "-d", "--name", h.Container, "--hostname", h.Name,
		"--network", f.Network, "--ip", h.Addr.String(),
		"--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
		"--security-opt", "seccomp=unconfined",
		"--security-opt", "apparmor=unconfined",
		"--security-opt", "systempaths=unconfined",
		"--tmpfs", "/run", "--tmpfs", "/tmp",
		"-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
		"-v", h.Volume + ":/var/lib/docker",
		"-e", "KAMAL_E2E_AUTHORIZED_KEY=" + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(f.Signer.PublicKey()))),
	}
	args = append(args, f.labels()...)
	args = append(args, f.image)
	if _, err := docker(ctx, args...); err != nil {
		return fmt.Errorf("start host %s: %w", h.Name, err)
	}
	return nil
}

// WaitReady polls until the host's dockerd answers `docker info` and its
// sshd completes a real SSH handshake with the fleet key, within
// ReadyTimeout. Host keys are read from the host, not trusted blindly.
func (h *Host) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	var last error
	dockerOK := false
	for {
		if !dockerOK {
			if _, err := h.Docker(ctx, "info", "--format", "{{.ServerVersion}}"); err != nil {
				last = fmt.Errorf("dockerd: %w", err)
			} else {
				dockerOK = true
			}
		}
		if dockerOK {
			if c, err := h.dialSSH(ctx, 2*time.Second); err != nil {
				last = fmt.Errorf("sshd: %w", err)
			} else {
				c.Close()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for host %s (%s): %w (last: %v)", h.Name, h.Addr, ctx.Err(), last)
		case <-time.After(pollInterval):
		}
	}
}

func newRunID() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// setupSSH creates the fleet's temp dir and client key.
func (f *Fleet) setupSSH() error {
	dir, err := os.MkdirTemp("", "kamal-e2e-ssh-")
	if err != nil {
		return fmt.Errorf("create ssh dir: %w", err)
	}
	f.Dir = dir
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate client key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "kamal-e2e")
	if err != nil {
		return fmt.Errorf("marshal client key: %w", err)
	}
	f.IdentityFile = filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(f.IdentityFile, pemEncode(block), 0o600); err != nil {
		return fmt.Errorf("write client key: %w", err)
	}
	f.Signer, err = ssh.NewSignerFromKey(priv)
	if err != nil {
		return fmt.Errorf("client signer: %w", err)
	}
	pub := ssh.MarshalAuthorizedKey(f.Signer.PublicKey())
	if err := os.WriteFile(f.IdentityFile+".pub", pub, 0o644); err != nil {
		return fmt.Errorf("write client public key: %w", err)
	}
	f.KnownHosts = filepath.Join(dir, "known_hosts")
	f.SSHConfig = filepath.Join(dir, "ssh_config")
	return nil
}

package transport

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Sentinel errors for host key problems; test with errors.Is.
var (
	// ErrUnknownHost: the host is not in known_hosts and accepting new keys
	// was not asked for.
	ErrUnknownHost = errors.New("unknown host key")
	// ErrHostKeyChanged: known_hosts holds a different key for the host.
	// Never accepted.
	ErrHostKeyChanged = errors.New("host key changed")
	// ErrHostKeyRevoked: the key is marked @revoked in known_hosts.
	ErrHostKeyRevoked = errors.New("host key revoked")
)

// HostKeyError says why a host's key was refused. It matches ErrUnknownHost,
// ErrHostKeyChanged or ErrHostKeyRevoked with errors.Is.
type HostKeyError struct {
	Kind        error    // one of the sentinels above
	Host        string   // host as looked up, e.g. "10.0.0.1" or "[10.0.0.1]:2222"
	Files       []string // known_hosts files checked
	Fingerprint string   // SHA256 fingerprint of the key the host offered
	Known       []string // "file:line fingerprint" of the keys on record (changed)
}

func (e *HostKeyError) Error() string {
	files := make([]string, len(e.Files))
	for i, f := range e.Files {
		files[i] = tildePath(f)
	}
	switch e.Kind {
	case ErrHostKeyChanged:
		return fmt.Sprintf("HOST KEY CHANGED for %s: it offered %s but %s has %s. "+
			"Someone may be intercepting the connection, or the host was reinstalled. "+
			"If you trust the change, remove the old key (ssh-keygen -R %s) and connect again",
			e.Host, e.Fingerprint, strings.Join(files, ", "), strings.Join(e.Known, ", "), e.Host)
	case ErrHostKeyRevoked:
		return fmt.Sprintf("host key %s of %s is marked @revoked in %s", e.Fingerprint, e.Host, strings.Join(files, ", "))
	default:
		return fmt.Sprintf("host key for %s is not in %s; verify its fingerprint %s and add it "+
			"(e.g. by running `%s` once), or accept new host keys (set ssh.accept_new / --accept-new-host-keys)",
			e.Host, strings.Join(files, ", "), e.Fingerprint, sshCommand(e.Host))
	}
}

// Is matches the sentinel Kind.
func (e *HostKeyError) Is(target error) bool { return target == e.Kind }

// knownHostsMu serialises appends to known_hosts files within the process.
var knownHostsMu sync.Mutex

// hostKeyChecker checks host keys against a target's known_hosts files,
// recording new keys when the target accepts them.
type hostKeyChecker struct {
	files     []string // as configured, first is written to
	acceptNew bool
}

// callback reads the existing files now (so keys accepted by an earlier dial
// are seen) and returns a HostKeyCallback plus the key algorithms on record for
// addr, to prefer those in the handshake as OpenSSH does.
func (c *hostKeyChecker) callback(addr string) (ssh.HostKeyCallback, []string, error) {
	db, err := c.load()
	if err != nil {
		return nil, nil, err
	}
	algos := knownAlgorithms(db, addr)
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := db(hostname, remote, key)
		if err == nil {
			return nil
		}
		host := knownhosts.Normalize(hostname)
		var keyErr *knownhosts.KeyError
		var revErr *knownhosts.RevokedError
		switch {
		case errors.As(err, &revErr):
			return &HostKeyError{Kind: ErrHostKeyRevoked, Host: host, Files: c.files, Fingerprint: ssh.FingerprintSHA256(key)}
		case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
			known := make([]string, 0, len(keyErr.Want))
			for _, w := range keyErr.Want {
				known = append(known, fmt.Sprintf("%s:%d %s", tildePath(w.Filename), w.Line, ssh.FingerprintSHA256(w.Key)))
			}
			return &HostKeyError{Kind: ErrHostKeyChanged, Host: host, Files: c.files, Fingerprint: ssh.FingerprintSHA256(key), Known: known}
		case errors.As(err, &keyErr):
			if !c.acceptNew {
				return &HostKeyError{Kind: ErrUnknownHost, Host: host, Files: c.files, Fingerprint: ssh.FingerprintSHA256(key)}
			}
			return c.add(hostname, key)
		default:
			return fmt.Errorf("check host key: %w", err)
		}
	}
	return cb, algos, nil
}

// load parses the files that exist; none existing means every host is unknown.
func (c *hostKeyChecker) load() (ssh.HostKeyCallback, error) {
	var existing []string
	for _, f := range c.files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		}
	}
	if len(existing) == 0 {
		return func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }, nil
	}
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	cb, err := knownhosts.New(existing...)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}
	return cb, nil
}

// add appends the key for hostname to the first known_hosts file.
func (c *hostKeyChecker) add(hostname string, key ssh.PublicKey) error {
	if len(c.files) == 0 {
		return errors.New("accept new host key: no known_hosts file configured")
	}
	file := c.files[0]
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("accept new host key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("accept new host key: %w", err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key) + "\n"
	if _, err := f.WriteString(line); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("accept new host key: write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("accept new host key: close %s: %w", file, err)
	}
	return nil
}

// knownAlgorithms asks db which keys it holds for addr (by offering a
// throwaway key) and returns their host key algorithms, so the handshake asks
// for a key type we can verify instead of failing on a type we have no record
// of. Nil when the host is unknown.
func knownAlgorithms(db ssh.HostKeyCallback, addr string) []string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	remote := &net.TCPAddr{IP: net.IPv4zero}
	var keyErr *knownhosts.KeyError
	if !errors.As(db(addr, remote, probe), &keyErr) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	addAlgo := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, w := range keyErr.Want {
		switch t := w.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			addAlgo(ssh.KeyAlgoRSASHA512)
			addAlgo(ssh.KeyAlgoRSASHA256)
			addAlgo(ssh.KeyAlgoRSA)
		default:
			addAlgo(t)
		}
	}
	return algos
}

// sshCommand is the ssh command line that connects to a known_hosts name
// ("h" or "[h]:port").
func sshCommand(host string) string {
	if h, p, err := net.SplitHostPort(host); err == nil {
		return "ssh -p " + p + " " + h
	}
	return "ssh " + host
}

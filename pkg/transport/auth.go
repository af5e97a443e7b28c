package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// auth holds the signers for one target and what could not be used, for a
// helpful error when the server refuses them all.
type auth struct {
	signers []ssh.Signer
	agent   net.Conn // closed by close
	notes   []string // e.g. "~/.ssh/id_ed25519 is passphrase-protected"
}

func (a *auth) close() {
	if a.agent != nil {
		_ = a.agent.Close() // done with the agent; a failed close loses nothing
	}
}

// methods offers the signers by public key (publicKeyMethod), watched by w.
func (a *auth) methods(w *refusalWatch) []ssh.AuthMethod {
	signers := w.signers(a.signers)
	return []ssh.AuthMethod{ssh.PublicKeysCallback(func() ([]ssh.Signer, error) { return signers, nil })}
}

// describe explains an authentication failure.
func (a *auth) describe(user string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "no key was accepted for user %q (tried %d key(s)", user, len(a.signers))
	if len(a.notes) > 0 {
		b.WriteString("; " + strings.Join(a.notes, "; "))
	}
	b.WriteString(")")
	return b.String()
}

// loadAuth collects the agent's signers (unless keys-only narrows them to the
// configured files) and the signers of the key files, agent first as OpenSSH
// does, without duplicates.
func loadAuth(t *target) (*auth, error) {
	a := &auth{}
	var fileSigners []ssh.Signer
	var filePubs [][]byte // public keys of key files, including encrypted ones
	for _, path := range t.KeyFiles {
		s, pub, err := readKey(path)
		switch {
		case err == nil:
			fileSigners = append(fileSigners, s)
			filePubs = append(filePubs, s.PublicKey().Marshal())
		case errors.Is(err, os.ErrNotExist) && !t.explicitKeyset:
			// default keys are only tried when present
		case errors.Is(err, errPassphrase):
			if pub != nil {
				filePubs = append(filePubs, pub.Marshal())
			}
			a.notes = append(a.notes, tildePath(path)+" is passphrase-protected: add it to ssh-agent")
		default:
			a.notes = append(a.notes, err.Error())
		}
	}

	for i, data := range t.KeyData {
		s, err := parseKeyData(i, data)
		if err != nil {
			a.notes = append(a.notes, err.Error())
			continue
		}
		fileSigners = append(fileSigners, s)
		filePubs = append(filePubs, s.PublicKey().Marshal())
	}

	if t.AgentSocket != "" && t.AgentSocket != "none" {
		conn, err := net.Dial("unix", t.AgentSocket)
		if err != nil {
			a.notes = append(a.notes, fmt.Sprintf("ssh-agent at %s unreachable: %v", t.AgentSocket, err))
		} else {
			a.agent = conn
			agentSigners, err := agent.NewClient(conn).Signers()
			if err != nil {
				a.notes = append(a.notes, fmt.Sprintf("list ssh-agent keys: %v", err))
			}
			for _, s := range agentSigners {
				if t.KeysOnly && !containsKey(filePubs, s.PublicKey().Marshal()) {
					continue
				}
				a.signers = append(a.signers, s)
			}
		}
	} else if t.AgentSocket == "" {
		a.notes = append(a.notes, "no ssh-agent (SSH_AUTH_SOCK is not set)")
	}

	for _, s := range fileSigners {
		if !containsSigner(a.signers, s) {
			a.signers = append(a.signers, s)
		}
	}
	if len(a.signers) == 0 {
		a.close()
		return nil, fmt.Errorf("load ssh keys for %s: %w (%s)", t.Alias, errNoUsableKey, strings.Join(append(a.notes, "no key files found"), "; "))
	}
	return a, nil
}

var (
	// errNoUsableKey: neither the agent nor the key files gave a key to offer.
	errNoUsableKey = errors.New("no usable key")
	errPassphrase  = errors.New("key is passphrase-protected")
)

// readKey parses a private key file. For an encrypted key it returns
// errPassphrase and, when the format carries it, the public key.
func readKey(path string) (ssh.Signer, ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read key %s: %w", tildePath(path), err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err == nil {
		return s, s.PublicKey(), nil
	}
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		pub := missing.PublicKey
		if pub == nil {
			if pubData, perr := os.ReadFile(path + ".pub"); perr == nil {
				pub, _, _, _, _ = ssh.ParseAuthorizedKey(pubData)
			}
		}
		return nil, pub, errPassphrase
	}
	return nil, nil, fmt.Errorf("parse key %s: %w", tildePath(path), err)
}

func containsKey(pubs [][]byte, pub []byte) bool {
	for _, p := range pubs {
		if bytes.Equal(p, pub) {
			return true
		}
	}
	return false
}

func containsSigner(ss []ssh.Signer, s ssh.Signer) bool {
	pub := s.PublicKey().Marshal()
	for _, x := range ss {
		if bytes.Equal(x.PublicKey().Marshal(), pub) {
			return true
		}
	}
	return false
}

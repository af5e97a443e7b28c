package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func TestRefusalWatchAuthCallback(t *testing.T) {
	tests := []struct {
		name       string
		allowed    []string
		tried      []string
		connFailed bool
		signFailed bool
		want       error
	}{
		{name: "keys not tried yet", allowed: []string{"publickey", "password"}, tried: []string{"none"}},
		{name: "every key refused", allowed: []string{"publickey"}, tried: []string{"none", "publickey"}, want: ErrAuth},
		{name: "server takes no keys", allowed: []string{"password"}, tried: []string{"none"}, want: ErrAuth},
		{name: "keys refused, then the connection failed", allowed: []string{"publickey"}, tried: []string{"none", "publickey"}, connFailed: true},
		{name: "a signer failed", allowed: []string{"publickey"}, tried: []string{"none", "publickey"}, signFailed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &refusalWatch{}
			w.connFailed.Store(tt.connFailed)
			w.signFailed.Store(tt.signFailed)
			m, err := w.authCallback(&ssh.ClientAuthContext{AllowedMethods: tt.allowed, TriedMethods: tt.tried})
			if m != nil || !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("got %v, %v; want nil, %v", m, err, tt.want)
			}
		})
	}
}

func TestRefusalWatchConn(t *testing.T) {
	a, b := net.Pipe()
	w := &refusalWatch{}
	c := w.conn(a)
	go func() { _, _ = b.Write([]byte("x")) }()
	if _, err := c.Read(make([]byte, 1)); err != nil || w.connFailed.Load() {
		t.Fatalf("read: %v, failed %v", err, w.connFailed.Load())
	}
	_ = b.Close()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) || !w.connFailed.Load() {
		t.Errorf("read after peer closed: %v, failed %v", err, w.connFailed.Load())
	}
}

// plainSigner is a Signer that is not an AlgorithmSigner.
type plainSigner struct {
	ssh.Signer
	err error
}

func (s plainSigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	if s.err != nil {
		return nil, s.err
	}
	return s.Signer.Sign(rand, data)
}

func TestRefusalWatchSigners(t *testing.T) {
	key := newKey(t)
	multi, err := ssh.NewSignerWithAlgorithms(key.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoED25519})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		signer ssh.Signer
		fails  bool
	}{
		{name: "key file signer", signer: key},
		{name: "multi-algorithm signer", signer: multi},
		{name: "plain signer", signer: plainSigner{Signer: key}},
		{name: "failing signer", signer: plainSigner{Signer: key, err: errors.New("agent declined")}, fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &refusalWatch{}
			s := w.signers([]ssh.Signer{tt.signer})[0]
			// The interfaces decide the algorithms x/crypto/ssh offers.
			_, isAlgo := s.(ssh.AlgorithmSigner)
			m, isMulti := s.(ssh.MultiAlgorithmSigner)
			_, wantAlgo := tt.signer.(ssh.AlgorithmSigner)
			wantM, wantMulti := tt.signer.(ssh.MultiAlgorithmSigner)
			if isAlgo != wantAlgo || isMulti != wantMulti {
				t.Errorf("wrapped signer: AlgorithmSigner %v MultiAlgorithmSigner %v, want %v %v", isAlgo, isMulti, wantAlgo, wantMulti)
			}
			if isMulti && !reflect.DeepEqual(m.Algorithms(), wantM.Algorithms()) {
				t.Errorf("Algorithms() = %v, want %v", m.Algorithms(), wantM.Algorithms())
			}
			if string(s.PublicKey().Marshal()) != string(key.PublicKey().Marshal()) {
				t.Error("wrapped signer has another public key")
			}
			_, err := s.Sign(nil, []byte("data"))
			if (err != nil) != tt.fails || w.signFailed.Load() != tt.fails {
				t.Errorf("Sign: %v, signFailed %v, want failure %v", err, w.signFailed.Load(), tt.fails)
			}
		})
	}
}

// decliningAgent lists its keys but refuses to sign, as an agent does when
// the user does not confirm.
type decliningAgent struct{ agent.Agent }

func (decliningAgent) Sign(ssh.PublicKey, []byte) (*ssh.Signature, error) {
	return nil, errors.New("declined")
}

// TestAuthFailureKinds checks that only keys the server refused are ErrAuth:
// a failure to sign or a connection lost during authentication keep their
// own error.
func TestAuthFailureKinds(t *testing.T) {
	cl := newClient(t)
	agentKey := newKeyPair(t)
	srv := newTestServer(t, cl.pub, agentKey.pub)
	cut := newTestServer(t, cl.pub)
	cut.mu.Lock()
	cut.cutAuth = true
	cut.mu.Unlock()
	cl.trust(t, srv, cut)

	declining := cl.opts()
	declining.KeyFiles = nil
	declining.AgentSocket = serveKeyring(t, decliningAgent{keyring(t, agentKey.priv)})
	stranger := cl.opts()
	stranger.KeyFiles = []string{writeKey(t, t.TempDir(), "id_other", newKeyPair(t).priv)}
	tests := []struct {
		name    string
		addr    string
		opts    Options
		refused bool
	}{
		{name: "key refused", addr: srv.addr, opts: stranger, refused: true},
		{name: "agent declines to sign", addr: srv.addr, opts: declining},
		{name: "connection lost during authentication", addr: cut.addr, opts: cl.opts()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Dial(context.Background(), tt.addr, tt.opts)
			var he *HostError
			if !errors.As(err, &he) || he.Host != tt.addr {
				t.Fatalf("got %v, want a HostError for %s", err, tt.addr)
			}
			if errors.Is(err, ErrAuth) != tt.refused {
				t.Errorf("errors.Is(%v, ErrAuth) = %v, want %v", err, !tt.refused, tt.refused)
			}
		})
	}
}

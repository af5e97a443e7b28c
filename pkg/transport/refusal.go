package transport

import (
	"io"
	"net"
	"slices"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
)

// publicKeyMethod is the one authentication method auth.methods offers.
const publicKeyMethod = "publickey"

// refusalWatch tells a handshake that failed because the server refused every
// key we offered from one that failed for another reason. x/crypto/ssh says
// so only in an error message, so the watch follows the authentication
// itself: it sees each attempt through ssh.ClientConfig.AuthCallback, and
// notes failures of the connection and of signing, which end an attempt with
// their own error.
type refusalWatch struct {
	connFailed atomic.Bool // a read or write on the connection failed
	signFailed atomic.Bool // a signer failed (e.g. the agent declined)
}

// authCallback runs before each authentication attempt after the first
// ("none"). It leaves the choice of method to ssh.ClientConfig.Auth until
// none of ours is left to try, then ends the handshake with ErrAuth. If the
// last attempt may have ended on a connection or signing error, it steps
// aside so that error is the one reported.
func (w *refusalWatch) authCallback(ctx *ssh.ClientAuthContext) (ssh.AuthMethod, error) {
	if slices.Contains(ctx.AllowedMethods, publicKeyMethod) && !slices.Contains(ctx.TriedMethods, publicKeyMethod) {
		return nil, nil
	}
	if w.connFailed.Load() || w.signFailed.Load() {
		return nil, nil
	}
	return nil, ErrAuth
}

// conn returns nc noting its read and write failures.
func (w *refusalWatch) conn(nc net.Conn) net.Conn {
	return &watchedConn{Conn: nc, failed: &w.connFailed}
}

type watchedConn struct {
	net.Conn
	failed *atomic.Bool
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

func (c *watchedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

// signers returns ss noting their signing failures. Each keeps the
// interfaces of the signer it wraps, which decide the signature algorithms
// x/crypto/ssh offers.
func (w *refusalWatch) signers(ss []ssh.Signer) []ssh.Signer {
	out := make([]ssh.Signer, len(ss))
	for i, s := range ss {
		switch s := s.(type) {
		case ssh.MultiAlgorithmSigner:
			out[i] = watchedMultiSigner{watchedAlgorithmSigner{s, &w.signFailed}, s}
		case ssh.AlgorithmSigner:
			out[i] = watchedAlgorithmSigner{s, &w.signFailed}
		default:
			out[i] = watchedSigner{s, &w.signFailed}
		}
	}
	return out
}

type watchedSigner struct {
	ssh.Signer
	failed *atomic.Bool
}

func (s watchedSigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	sig, err := s.Signer.Sign(rand, data)
	noteFailure(s.failed, err)
	return sig, err
}

type watchedAlgorithmSigner struct {
	ssh.AlgorithmSigner
	failed *atomic.Bool
}

func (s watchedAlgorithmSigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	sig, err := s.AlgorithmSigner.Sign(rand, data)
	noteFailure(s.failed, err)
	return sig, err
}

func (s watchedAlgorithmSigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	sig, err := s.AlgorithmSigner.SignWithAlgorithm(rand, data, algorithm)
	noteFailure(s.failed, err)
	return sig, err
}

type watchedMultiSigner struct {
	watchedAlgorithmSigner
	multi ssh.MultiAlgorithmSigner
}

func (s watchedMultiSigner) Algorithms() []string { return s.multi.Algorithms() }

func noteFailure(failed *atomic.Bool, err error) {
	if err != nil {
		failed.Store(true)
	}
}

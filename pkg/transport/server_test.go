package transport

// An in-process SSH server for the tests: public key auth, exec sessions run
// by the local /bin/sh, "direct-streamlocal@openssh.com" and "direct-tcpip"
// forwarding. It stands in for OpenSSH; e2e tests use the real one.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

type testServer struct {
	addr    string
	hostKey ssh.Signer
	// conns counts accepted (authenticated) connections.
	conns atomic.Int32
	// accepted counts TCP connections; one is counted before the client's
	// handshake can finish.
	accepted atomic.Int32
	// forwards records direct-tcpip destinations and streamlocal paths.
	mu        sync.Mutex
	forwards  []string
	signals   []string
	users     []string
	ptys      int
	allowKeys []ssh.PublicKey
	// cutAuth: the server drops every connection when asked about a key.
	cutAuth bool
	// refuseAgent declines agent forwarding; otherwise, when a session asks
	// for it, the server lists the forwarded agent's keys (agentKeys).
	refuseAgent bool
	agentKeys   []int
	// muteKeepalives: global requests get no reply, as from a host whose
	// replies queue behind a large transfer.
	muteKeepalives atomic.Bool
	ln             net.Listener
	wg             sync.WaitGroup
	serverCfg      *ssh.ServerConfig
	open           []net.Conn
}

func newKey(tb testing.TB) ssh.Signer {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// writeKey writes k as an OpenSSH private key file and returns its path.
func writeKey(tb testing.TB, dir, name string, k ed25519.PrivateKey) string {
	tb.Helper()
	block, err := ssh.MarshalPrivateKey(k, "")
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pemEncode(block), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// newTestServer starts a server on 127.0.0.1 accepting the given client keys.
func newTestServer(tb testing.TB, clientKeys ...ssh.PublicKey) *testServer {
	tb.Helper()
	s := &testServer{hostKey: newKey(tb), allowKeys: clientKeys}
	s.serverCfg = &ssh.ServerConfig{
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.cutAuth {
				for _, c := range s.open {
					c.Close()
				}
				s.open = nil
				return nil, errDenied
			}
			for _, k := range s.allowKeys {
				if string(k.Marshal()) == string(key.Marshal()) {
					s.users = append(s.users, meta.User())
					return nil, nil
				}
			}
			return nil, errDenied
		},
	}
	s.serverCfg.AddHostKey(s.hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.ln = ln
	s.addr = ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.open = append(s.open, nc)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(nc)
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		s.drop()
		s.wg.Wait()
	})
	return s
}

var errDenied = &net.OpError{Op: "auth", Err: os.ErrPermission}

func (s *testServer) port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// knownHostsLine is s's key as a known_hosts line.
func (s *testServer) knownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.hostKey.PublicKey()) + "\n"
}

// drop closes every live connection (a host that went away).
func (s *testServer) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.open {
		c.Close()
	}
	s.open = nil
}

func (s *testServer) serve(nc net.Conn) {
	defer nc.Close()
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.serverCfg)
	if err != nil {
		return
	}
	defer sc.Close()
	s.conns.Add(1)
	go s.globalRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			ch, in, err := nch.Accept()
			if err != nil {
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.session(ch, in, sc) }()
		case "direct-streamlocal@openssh.com":
			var m struct {
				Path      string
				Reserved0 string
				Reserved1 uint32
			}
			if err := ssh.Unmarshal(nch.ExtraData(), &m); err != nil {
				nch.Reject(ssh.ConnectionFailed, "bad payload")
				continue
			}
			s.record(&s.forwards, "unix:"+m.Path)
			s.forward(nch, "unix", m.Path, &wg)
		case "direct-tcpip":
			var m struct {
				Host       string
				Port       uint32
				OriginHost string
				OriginPort uint32
			}
			if err := ssh.Unmarshal(nch.ExtraData(), &m); err != nil {
				nch.Reject(ssh.ConnectionFailed, "bad payload")
				continue
			}
			addr := net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port)))
			s.record(&s.forwards, "tcp:"+addr)
			s.forward(nch, "tcp", addr, &wg)
		default:
			nch.Reject(ssh.UnknownChannelType, "unsupported")
		}
	}
}

func (s *testServer) record(list *[]string, v string) {
	s.mu.Lock()
	*list = append(*list, v)
	s.mu.Unlock()
}

func (s *testServer) forward(nch ssh.NewChannel, network, addr string, wg *sync.WaitGroup) {
	target, err := net.Dial(network, addr)
	if err != nil {
		nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, in, err := nch.Accept()
	if err != nil {
		target.Close()
		return
	}
	go ssh.DiscardRequests(in)
	wg.Add(1)
	go func() {
		defer wg.Done()
		done := make(chan struct{}, 2)
		go func() { io.Copy(target, ch); closeWrite(target); done <- struct{}{} }()
		go func() { io.Copy(ch, target); ch.CloseWrite(); done <- struct{}{} }()
		<-done
		<-done
		ch.Close()
		target.Close()
	}()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// session serves exec (via /bin/sh -c), pty-req, env and signal requests.
func (s *testServer) session(ch ssh.Channel, in <-chan *ssh.Request, sc *ssh.ServerConn) {
	defer ch.Close()
	var cmd *exec.Cmd
	exited := make(chan struct{})
	for {
		var req *ssh.Request
		var ok bool
		select {
		case req, ok = <-in:
		case <-exited:
			return
		}
		if !ok {
			if cmd != nil && cmd.Process != nil {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
			return
		}
		switch req.Type {
		case "pty-req":
			s.mu.Lock()
			s.ptys++
			s.mu.Unlock()
			req.Reply(true, nil)
		case "env":
			req.Reply(true, nil)
		case "auth-agent-req@openssh.com":
			s.mu.Lock()
			refuse := s.refuseAgent
			s.mu.Unlock()
			if refuse {
				req.Reply(false, nil)
				continue
			}
			s.listForwardedAgent(sc)
			req.Reply(true, nil)
		case "signal":
			var m struct{ Signal string }
			ssh.Unmarshal(req.Payload, &m)
			s.record(&s.signals, m.Signal)
			if cmd != nil && cmd.Process != nil && m.Signal == "TERM" {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			}
			req.Reply(true, nil)
		case "exec":
			if cmd != nil {
				req.Reply(false, nil)
				continue
			}
			var m struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &m); err != nil {
				req.Reply(false, nil)
				continue
			}
			cmd = exec.Command("/bin/sh", "-c", m.Command)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
			stdin, err := cmd.StdinPipe()
			if err != nil {
				req.Reply(false, nil)
				return
			}
			if err := cmd.Start(); err != nil {
				req.Reply(false, nil)
				return
			}
			req.Reply(true, nil)
			go func() { io.Copy(stdin, ch); stdin.Close() }()
			go func() {
				err := cmd.Wait()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
						sig := "TERM"
						if ws.Signal() == syscall.SIGKILL {
							sig = "KILL"
						}
						ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
							Signal     string
							CoreDumped bool
							Msg, Lang  string
						}{Signal: sig}))
						close(exited)
						return
					}
					code = ee.ExitCode()
				}
				var b [4]byte
				binary.BigEndian.PutUint32(b[:], uint32(code))
				ch.SendRequest("exit-status", false, b[:])
				close(exited)
			}()
		default:
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}
}

// listForwardedAgent opens an agent channel back to the client, as sshd
// does for a forwarded agent, and records how many keys it lists (-1: the
// channel was refused).
func (s *testServer) listForwardedAgent(sc *ssh.ServerConn) {
	n := -1
	if ch, reqs, err := sc.OpenChannel("auth-agent@openssh.com", nil); err == nil {
		go ssh.DiscardRequests(reqs)
		if keys, err := agent.NewClient(ch).List(); err == nil {
			n = len(keys)
		}
		ch.Close()
	}
	s.mu.Lock()
	s.agentKeys = append(s.agentKeys, n)
	s.mu.Unlock()
}

// globalRequests refuses every global request, or leaves it unanswered
// while muteKeepalives is set.
func (s *testServer) globalRequests(reqs <-chan *ssh.Request) {
	for r := range reqs {
		if r.WantReply && !s.muteKeepalives.Load() {
			_ = r.Reply(false, nil) // the client may be gone
		}
	}
}

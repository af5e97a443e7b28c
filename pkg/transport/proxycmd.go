package transport

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dialProxyCommand starts the ssh config's ProxyCommand for t (with %h %p %r
// %n expanded) and returns its stdin/stdout as the connection, as OpenSSH
// does. The command lives until the connection is closed.
func dialProxyCommand(t *target) (net.Conn, error) {
	line := expandTokens(t.ProxyCommand, t.Alias, t.HostName, t.User, t.Port)
	cmd := exec.Command("/bin/sh", "-c", "exec "+line)
	cmd.Stderr = &proxyStderr{}
	// Children of the command may hold its stderr open after it exits.
	cmd.WaitDelay = time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start ProxyCommand: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start ProxyCommand: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ProxyCommand %q: %w", line, err)
	}
	return &cmdConn{cmd: cmd, r: stdout, w: stdin, addr: proxyAddr(net.JoinHostPort(t.HostName, strconv.Itoa(t.Port)))}, nil
}

// cmdConn is a net.Conn over a child process's stdio. Deadlines are not
// supported (the callers close the conn instead).
type cmdConn struct {
	cmd  *exec.Cmd
	r    io.ReadCloser
	w    io.WriteCloser
	addr net.Addr
	once sync.Once
}

func (c *cmdConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		if s := c.cmd.Stderr.(*proxyStderr).String(); s != "" {
			err = fmt.Errorf("%w (ProxyCommand: %s)", err, s)
		}
	}
	return n, err
}

func (c *cmdConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *cmdConn) Close() error {
	c.once.Do(func() {
		_ = c.w.Close() // EOF for the command; it is stopped below either way
		if c.cmd.Process != nil {
			_ = c.cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = c.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				_ = c.cmd.Process.Kill()
				<-done
			}
		}
	})
	return nil
}

func (c *cmdConn) LocalAddr() net.Addr                { return proxyAddr("proxycommand") }
func (c *cmdConn) RemoteAddr() net.Addr               { return c.addr }
func (c *cmdConn) SetDeadline(t time.Time) error      { return nil }
func (c *cmdConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *cmdConn) SetWriteDeadline(t time.Time) error { return nil }

type proxyAddr string

func (a proxyAddr) Network() string { return "proxycommand" }
func (a proxyAddr) String() string  { return string(a) }

// proxyStderr keeps the last bytes the ProxyCommand wrote to stderr.
type proxyStderr struct {
	mu  sync.Mutex
	buf []byte
}

func (s *proxyStderr) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	if len(s.buf) > 1024 {
		s.buf = s.buf[len(s.buf)-1024:]
	}
	return len(p), nil
}

func (s *proxyStderr) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(string(s.buf))
}

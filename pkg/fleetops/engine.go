package fleetops

// The engine that builds and holds the app image: the local one, or a
// remote builder's (builder.remote), whose docker socket is forwarded over
// our SSH transport to a local unix socket, so the local docker CLI and
// buildx drive it (docker -H unix://...). The image then ships from that
// engine: pushed from there to the registry, or streamed to the hosts (a
// host that is the builder already holds it).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/build"
)

// remoteDockerSocket is the remote builder's engine socket.
const remoteDockerSocket = "/var/run/docker.sock"

// engineForward serves a local unix socket whose connections are
// forwarded to a unix socket on a host.
type engineForward struct {
	dir    string
	sock   string
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // open on either side, closed by Close
}

// forwardEngine forwards a fresh local socket to remotePath on d's host
// until Close.
func forwardEngine(d unixDialer, remotePath string) (*engineForward, error) {
	dir, err := os.MkdirTemp("", "kamal-engine-")
	if err != nil {
		return nil, fmt.Errorf("forward remote docker engine: %w", err)
	}
	sock := filepath.Join(dir, "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		_ = os.RemoveAll(dir) // nothing was made in it
		return nil, fmt.Errorf("forward remote docker engine: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &engineForward{dir: dir, sock: sock, ln: ln, cancel: cancel, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.serve(ctx, d, remotePath)
	return f, nil
}

func (f *engineForward) serve(ctx context.Context, d unixDialer, remotePath string) {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.track(c)()
			r, err := d.DialUnix(ctx, remotePath)
			if err != nil {
				return // the docker CLI sees the connection close and says so
			}
			defer f.track(r)()
			pipe(c, r)
		}()
	}
}

// pipe copies both ways until either side ends, then ends both.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // either side ending is the normal end
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

// track records c as open until the returned func closes it.
func (f *engineForward) track(c net.Conn) func() {
	f.mu.Lock()
	f.conns[c] = struct{}{}
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
		_ = c.Close() // done with it either way
	}
}

// Flags are the docker CLI flags that reach the forwarded engine.
func (f *engineForward) Flags() []string { return []string{"-H", "unix://" + f.sock} }

// Close stops forwarding, ends the connections still open (an idle
// keep-alive the engine holds) and removes the socket.
func (f *engineForward) Close() error {
	err := f.ln.Close()
	f.cancel()
	f.mu.Lock()
	for c := range f.conns {
		_ = c.Close() // the command is done with the engine
	}
	f.mu.Unlock()
	f.wg.Wait()
	return errors.Join(err, os.RemoveAll(f.dir))
}

// builderHost is the SSH host of an ssh:// remote builder.
func builderHost(remote string) string {
	return strings.TrimSuffix(strings.TrimPrefix(remote, "ssh://"), "/")
}

// useRemote is Kamal's rule: the remote builder builds when local is
// false, or when the arch asked for is not the local engine's.
func useRemote(remote string, local *bool, arch, localArch string) bool {
	if remote == "" {
		return false
	}
	if local != nil && !*local {
		return true
	}
	return arch != "" && build.NormalizeArch(arch) != localArch
}

// appEngine returns the docker flags of the engine that builds and holds
// the app image, forwarding the remote builder's engine the first time.
func (s *Session) appEngine(ctx context.Context) ([]string, error) {
	s.engineOnce.Do(func() { s.engineFlags, s.engineErr = s.openAppEngine(ctx) })
	return s.engineFlags, s.engineErr
}

func (s *Session) openAppEngine(ctx context.Context) ([]string, error) {
	b := s.Cfg.Builder
	if b.Remote == "" {
		return s.Opts.DockerFlags, nil
	}
	arch := ""
	if len(b.Arch) > 0 {
		arch = b.Arch[0]
	}
	if b.Local == nil || *b.Local {
		localArch, err := build.EngineArch(ctx, s.Opts.DockerFlags)
		if err != nil {
			return nil, err
		}
		if !useRemote(b.Remote, b.Local, arch, localArch) {
			return s.Opts.DockerFlags, nil
		}
	}
	host := builderHost(b.Remote)
	conn, err := s.connect(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("reach the remote builder %s: %w", b.Remote, err)
	}
	f, err := forwardEngine(conn, remoteDockerSocket)
	if err != nil {
		return nil, err
	}
	s.engineForward = f
	s.out.Verbose("building on the remote builder %s", b.Remote)
	return f.Flags(), nil
}

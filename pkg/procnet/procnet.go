// Package procnet reads the TCP sockets of a network namespace from
// /proc/<pid>/net/tcp and tcp6: the sidecar's way to see which connections
// Traefik still holds to an old container (Traefik has no per-server
// open-connection metric). It imports nothing of the project.
package procnet

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// State is a TCP state as the kernel numbers it (include/net/tcp_states.h).
type State uint8

// The states a drain cares about; the kernel has more.
const (
	Established State = 0x01
	TimeWait    State = 0x06
	CloseWait   State = 0x08
	Listen      State = 0x0A
)

// Socket is one line of /proc/net/tcp or tcp6. IPv4-mapped IPv6 addresses
// are unmapped, so an IPv4 peer compares equal whichever table it is in.
type Socket struct {
	Local, Remote netip.AddrPort
	State         State
}

// ErrFormat: a line does not read as /proc/net/tcp.
var ErrFormat = errors.New("not a /proc/net/tcp line")

// Root is where the proc filesystem is mounted.
const Root = "/proc"

// Read returns the TCP sockets (IPv4 and IPv6) of pid's network namespace
// under the proc filesystem at root. A table the kernel lacks (no IPv6) is
// skipped.
func Read(root string, pid int) ([]Socket, error) {
	dir := filepath.Join(root, strconv.Itoa(pid), "net")
	var out []Socket
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) && name == "tcp6" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read sockets of pid %d: %w", pid, err)
		}
		socks, err := Parse(f)
		_ = f.Close() // read-only; everything was read or err says why not
		if err != nil {
			return nil, fmt.Errorf("read sockets of pid %d: %s: %w", pid, name, err)
		}
		out = append(out, socks...)
	}
	return out, nil
}

// Parse reads a /proc/net/tcp or tcp6 table (the header line first).
func Parse(r io.Reader) ([]Socket, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	var out []Socket
	for first := true; sc.Scan(); first = false {
		line := strings.TrimSpace(sc.Text())
		if first || line == "" {
			continue
		}
		s, err := parseLine(line)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read socket table: %w", err)
	}
	return out, nil
}

// parseLine reads "sl: local remote st ...".
func parseLine(line string) (Socket, error) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasSuffix(f[0], ":") {
		return Socket{}, fmt.Errorf("%w: %q", ErrFormat, line)
	}
	local, err := parseAddr(f[1])
	if err != nil {
		return Socket{}, fmt.Errorf("%w: %q: local: %w", ErrFormat, line, err)
	}
	remote, err := parseAddr(f[2])
	if err != nil {
		return Socket{}, fmt.Errorf("%w: %q: remote: %w", ErrFormat, line, err)
	}
	st, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil {
		return Socket{}, fmt.Errorf("%w: %q: state: %w", ErrFormat, line, err)
	}
	return Socket{Local: local, Remote: remote, State: State(st)}, nil
}

// parseAddr reads "HEXADDR:HEXPORT". The kernel prints the address as
// 32-bit words in the host's byte order (one word for IPv4, four for
// IPv6) and the port in hex.
func parseAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q: %w", p, err)
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q: want 8 or 32 hex digits", a)
	}
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// Count returns how many of socks are in state st with a remote end in
// remotes.
func Count(socks []Socket, st State, remotes []netip.AddrPort) int {
	n := 0
	for _, s := range socks {
		if s.State != st {
			continue
		}
		for _, r := range remotes {
			if s.Remote == netip.AddrPortFrom(r.Addr().Unmap(), r.Port()) {
				n++
				break
			}
		}
	}
	return n
}

package procnet

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures are little-endian kernels' tables (amd64, arm64).
func TestParseIPv4(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "tcp"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	socks, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{netip.MustParseAddrPort("0.0.0.0:8080"), netip.MustParseAddrPort("0.0.0.0:0"), Listen},
		{netip.MustParseAddrPort("172.18.0.3:50000"), netip.MustParseAddrPort("172.18.0.5:3000"), Established},
		{netip.MustParseAddrPort("172.18.0.3:50001"), netip.MustParseAddrPort("172.18.0.5:3000"), TimeWait},
		{netip.MustParseAddrPort("172.18.0.3:50002"), netip.MustParseAddrPort("172.18.0.6:3000"), Established},
		{netip.MustParseAddrPort("127.0.0.1:80"), netip.MustParseAddrPort("127.0.0.1:54321"), CloseWait},
	}
	if len(socks) != len(want) {
		t.Fatalf("got %d sockets %v, want %d", len(socks), socks, len(want))
	}
	for i := range want {
		if socks[i] != want[i] {
			t.Errorf("socket %d = %+v, want %+v", i, socks[i], want[i])
		}
	}
}

func TestParseIPv6(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "tcp6"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	socks, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{netip.MustParseAddrPort("[::]:8080"), netip.MustParseAddrPort("[::]:0"), Listen},
		// IPv4-mapped: unmapped, so it compares equal to the IPv4 peer.
		{netip.MustParseAddrPort("172.18.0.3:50003"), netip.MustParseAddrPort("172.18.0.5:3000"), Established},
		{netip.MustParseAddrPort("[fd00::2]:50004"), netip.MustParseAddrPort("[fd00::1]:3000"), Established},
	}
	if len(socks) != len(want) {
		t.Fatalf("got %d sockets %v, want %d", len(socks), socks, len(want))
	}
	for i := range want {
		if socks[i] != want[i] {
			t.Errorf("socket %d = %+v, want %+v", i, socks[i], want[i])
		}
	}
}

// TestReadCount reads both tables of a fake proc tree and counts the
// established connections to one peer across them.
func TestReadCount(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "42", "net")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	socks, err := Read(root, 42)
	if err != nil {
		t.Fatal(err)
	}
	blue := []netip.AddrPort{netip.MustParseAddrPort("172.18.0.5:3000")}
	if n := Count(socks, Established, blue); n != 2 {
		t.Errorf("established to blue = %d, want 2 (one per table; TIME_WAIT not counted)", n)
	}
	mapped := []netip.AddrPort{netip.MustParseAddrPort("[::ffff:172.18.0.6]:3000")}
	if n := Count(socks, Established, mapped); n != 1 {
		t.Errorf("established to a mapped peer = %d, want 1", n)
	}
	if n := Count(socks, Established, nil); n != 0 {
		t.Errorf("established to no peer = %d, want 0", n)
	}
	// No IPv6 table is no IPv6 socket, not an error.
	if err := os.Remove(filepath.Join(dir, "tcp6")); err != nil {
		t.Fatal(err)
	}
	if socks, err = Read(root, 42); err != nil || len(socks) != 5 {
		t.Errorf("without tcp6: %d sockets, %v", len(socks), err)
	}
	if _, err := Read(root, 43); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing pid: %v, want ErrNotExist", err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, line := range []string{
		"0: 0100007F 0100007F:0050 01",
		"0: 0100007F:XYZW 0100007F:0050 01",
		"0: 0100007:0050 0100007F:0050 01",
		"0: 0100007F:0050 0100007F:0050 ZZ",
		"garbage",
	} {
		_, err := Parse(strings.NewReader("header\n" + line + "\n"))
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %v, want ErrFormat", line, err)
		}
	}
}

// TestReadSelf reads this process's own namespace: a connection it opens
// to its own listener is there, ESTABLISHED, until it is closed.
func TestReadSelf(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := []netip.AddrPort{netip.MustParseAddrPort(ln.Addr().String())}
	count := func() int {
		socks, err := Read(Root, os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		return Count(socks, Established, peer)
	}
	if n := count(); n != 1 {
		t.Errorf("open connection: %d established to the listener, want 1", n)
	}
	_ = conn.Close()
	if n := count(); n != 0 {
		t.Errorf("closed connection: %d established to the listener, want 0", n)
	}
}

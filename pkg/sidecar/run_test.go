package sidecar

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestListenUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "sidecar.sock")
	ln, err := listenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 || info.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode = %v, %v; want a 0600 socket", info.Mode(), err)
	}
	// A second sidecar must not steal a live socket.
	if _, err := listenUnix(path); !errors.Is(err, errSocketInUse) {
		t.Fatalf("second listen on a live socket: %v", err)
	}
	// A socket left by a killed sidecar (not removed, nobody listening) is
	// replaced.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket should still exist: %v", err)
	}
	ln2, err := listenUnix(path)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	ln2.Close()
}

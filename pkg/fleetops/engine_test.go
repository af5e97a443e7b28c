package fleetops

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unixTo dials a local unix socket whatever path it is asked for, as the
// SSH connection dials the host's.
type unixTo struct {
	sock  string
	asked chan string
}

func (u unixTo) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	select {
	case u.asked <- path:
	default:
	}
	var d net.Dialer
	return d.DialContext(ctx, "unix", u.sock)
}

// TestForwardEngine: requests to the local socket reach the remote
// engine's socket (here an HTTP server on a unix socket, as dockerd is),
// and Close removes the local socket.
func TestForwardEngine(t *testing.T) {
	remote := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", remote)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "engine saw "+r.URL.Path)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	dialer := unixTo{sock: remote, asked: make(chan string, 1)}
	f, err := forwardEngine(dialer, remoteDockerSocket)
	if err != nil {
		t.Fatal(err)
	}
	flags := f.Flags()
	if len(flags) != 2 || flags[0] != "-H" || !strings.HasPrefix(flags[1], "unix://") {
		t.Fatalf("flags %q", flags)
	}
	local := strings.TrimPrefix(flags[1], "unix://")
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", local)
	}}}
	for i := 0; i < 3; i++ { // several requests, several connections
		resp, err := client.Get("http://docker/v1.41/info")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "engine saw /v1.41/info" {
			t.Fatalf("through the forward: %q", body)
		}
		client.CloseIdleConnections()
	}
	if got := <-dialer.asked; got != "/var/run/docker.sock" {
		t.Errorf("dialled %q on the host, want the docker socket", got)
	}
	// A keep-alive connection left open (the engine holds it idle) must not
	// keep Close waiting.
	resp, err := client.Get("http://docker/_ping")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	closed := make(chan error, 1)
	go func() { closed <- f.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on an idle forwarded connection")
	}
	if _, err := os.Stat(local); !os.IsNotExist(err) {
		t.Errorf("the local socket outlived Close: %v", err)
	}
}

// TestUseRemote is Kamal's rule for the remote builder.
func TestUseRemote(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		remote     string
		local      *bool
		arch, here string
		want       bool
	}{
		{"", nil, "arm64", "amd64", false},
		{"ssh://b", nil, "amd64", "amd64", false},
		{"ssh://b", &yes, "amd64", "amd64", false},
		{"ssh://b", nil, "arm64", "amd64", true},
		{"ssh://b", &no, "amd64", "amd64", true},
		{"ssh://b", nil, "", "amd64", false},
	}
	for _, tc := range tests {
		if got := useRemote(tc.remote, tc.local, tc.arch, tc.here); got != tc.want {
			t.Errorf("useRemote(%q, %v, %q, %q) = %v", tc.remote, tc.local, tc.arch, tc.here, got)
		}
	}
	if h := builderHost("ssh://app@1.1.1.5:2122"); h != "app@1.1.1.5:2122" {
		t.Errorf("builder host %q", h)
	}
}

package fleetops

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// fakeLockSidecar serves the lock endpoints of one sidecar and counts the
// releases it is asked for.
type fakeLockSidecar struct {
	mu       sync.Mutex
	st       contract.LockStatus
	releases int
}

func (f *fakeLockSidecar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case contract.PathLock:
	case contract.PathLockRelease:
		f.releases++
		f.st = contract.LockStatus{}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(f.st)
}

// lockSession is a session whose primary host h1 is served by f.
func lockSession(t *testing.T, f *fakeLockSidecar) (*Session, *bytes.Buffer) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := sidecarclient.NewClient(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", srv.Listener.Addr().String())
	})
	t.Cleanup(c.Close)
	var out bytes.Buffer
	s := &Session{Opts: Options{Stdout: &out}, Cfg: &spec.Config{Service: "app", PrimaryHost: "h1"},
		sidecars: map[string]*sidecarclient.Client{"h1": c}}
	return s, &out
}

func TestReleaseLockSaysWhetherThereWasOne(t *testing.T) {
	ctx := context.Background()
	f := &fakeLockSidecar{}
	s, out := lockSession(t, f)
	if err := s.ReleaseLock(ctx); err != nil {
		t.Fatalf("release of a free lock: %v", err)
	}
	if got := out.String(); !strings.Contains(got, "no deploy lock on h1") || strings.Contains(got, "Released") || f.releases != 0 {
		t.Fatalf("release of a free lock printed %q and released %d times", got, f.releases)
	}

	out.Reset()
	since := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	f.st = contract.LockStatus{Locked: true, Holder: "alice (pid 42)", Message: "deploy", Version: "v2", AcquiredAt: since}
	if err := s.ReleaseLock(ctx); err != nil {
		t.Fatalf("release of a held lock: %v", err)
	}
	got := out.String()
	for _, want := range []string{"Released the deploy lock on h1", "alice (pid 42)", since.Format(time.RFC3339), `"deploy"`, "v2"} {
		if !strings.Contains(got, want) {
			t.Errorf("release printed %q, lacking %q", got, want)
		}
	}
	if f.releases != 1 {
		t.Errorf("releases = %d, want 1", f.releases)
	}
}

func TestLockMessageNamesTheCommand(t *testing.T) {
	for _, tt := range []struct{ command, message, want string }{
		{"deploy", "", "deploy"},
		{"deploy", "hotfix", "deploy: hotfix"},
		{"", "rollback to v1", "rollback to v1"},
	} {
		l := &locker{command: tt.command}
		if got := l.lockMessage(tt.message); got != tt.want {
			t.Errorf("lockMessage(%q, %q) = %q, want %q", tt.command, tt.message, got, tt.want)
		}
	}
	hint := lockHint(&contract.LockStatus{Locked: true, Holder: "bob", Message: "deploy", Version: "v3"})
	if !strings.Contains(hint, `for "deploy" of version v3`) || !strings.Contains(hint, "lock release") {
		t.Errorf("lock hint %q does not say what the lock is held for and how to break it", hint)
	}
}

package fleetops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// A rollback that comes while the cancelled deploy still holds the role on
// the sidecar is tried again until the role is free.
func TestRetryConflictWaitsForTheRole(t *testing.T) {
	calls := 0
	err := retryConflict(context.Background(), func() error {
		calls++
		if calls < 3 {
			return &contract.Error{Code: contract.CodeConflict, Message: "a deploy is already under way"}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("retryConflict = %v after %d calls, want nil after 3", err, calls)
	}
}

func TestRetryConflictStopsOnOtherErrorsAndAtTheDeadline(t *testing.T) {
	other := errors.New("boom")
	calls := 0
	if err := retryConflict(context.Background(), func() error { calls++; return other }); !errors.Is(err, other) || calls != 1 {
		t.Fatalf("retryConflict = %v after %d calls, want boom after 1", err, calls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*conflictRetry/2)
	defer cancel()
	start := time.Now()
	err := retryConflict(ctx, func() error { return &contract.Error{Code: contract.CodeConflict} })
	if !errors.Is(err, contract.ErrConflict) || time.Since(start) > 5*conflictRetry {
		t.Fatalf("retryConflict = %v after %v, want the conflict once ctx ended", err, time.Since(start))
	}
}

// rollbackStream is a sidecar's rollback endpoint that sends steps up to
// last as done, then fails the stream as a cancelled swap does.
func rollbackStream(steps ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != contract.PathRollback {
			http.NotFound(w, r)
			return
		}
		ew := contract.NewEventWriter(w)
		for _, s := range steps {
			_ = ew.Write(contract.Event{Step: s, Status: contract.EventDone})
		}
		_ = ew.Write(contract.Event{Status: contract.EventEnd, Error: &contract.Error{Code: contract.CodeInternal, Message: "context canceled"}})
	})
}

func deployerFor(t *testing.T, h http.Handler) *sidecarDeployer {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := sidecarclient.NewClient(func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", srv.Listener.Addr().String())
	})
	t.Cleanup(c.Close)
	s := &Session{Cfg: &spec.Config{Service: "app"}, sidecars: map[string]*sidecarclient.Client{"h1": c},
		out: output.New(io.Discard, io.Discard, output.Verbose, nil)}
	return &sidecarDeployer{s: s}
}

// A rollback whose stream fails after its cutover was reported says so
// (the fleet's undo of a cancelled rollback counts the host as switched);
// one that fails before says nothing of the kind.
func TestRollbackFailedAfterCutoverSaysSo(t *testing.T) {
	tg := fleet.Target{Host: "h1", Role: "web"}
	err := deployerFor(t, rollbackStream("start-retained", "wait-healthy", contract.StepCutover)).Rollback(context.Background(), tg, "v1")
	if !errors.Is(err, fleet.ErrFailedAfterCutover) {
		t.Errorf("rollback failing in its drain: %v, want fleet.ErrFailedAfterCutover", err)
	}
	err = deployerFor(t, rollbackStream("start-retained")).Rollback(context.Background(), tg, "v1")
	if err == nil || errors.Is(err, fleet.ErrFailedAfterCutover) {
		t.Errorf("rollback failing before its cutover: %v, want an error that is not fleet.ErrFailedAfterCutover", err)
	}
}

// A sidecar restarting (its socket refused through SSH, as the real chain
// wraps it) is tried again; another refusal of the channel is not.
func TestRetryConflictWaitsForARestartingSidecar(t *testing.T) {
	refused := func(reason ssh.RejectionReason) error {
		dial := fmt.Errorf("dial /run/kamal/sidecar.sock: %w", &ssh.OpenChannelError{Reason: reason, Message: "open failed"})
		return fmt.Errorf("call sidecar /v1/rollback: %w", &url.Error{Op: "Post", URL: "http://kamal-sidecar/v1/rollback", Err: dial})
	}
	calls := 0
	err := retryConflict(context.Background(), func() error {
		calls++
		if calls < 3 {
			return refused(ssh.ConnectionFailed)
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("retryConflict = %v after %d calls, want nil after 3", err, calls)
	}
	calls = 0
	err = retryConflict(context.Background(), func() error { calls++; return refused(ssh.Prohibited) })
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || calls != 1 {
		t.Fatalf("retryConflict = %v after %d calls, want the prohibited channel after 1", err, calls)
	}
}

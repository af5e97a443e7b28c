package fleetops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
)

// lockPollInterval is how often --lock-wait asks whether the lock is free.
const lockPollInterval = 2 * time.Second

// locker holds the deploy lock on the primary host's sidecar.
type locker struct {
	s    *Session
	wait time.Duration // --lock-wait; 0 fails at once
	// command names what takes the lock ("deploy"), so whoever finds it
	// held learns what it is held for.
	command string
}

// lockMessage is what the lock records: the command and the user's
// --message, either of which may be empty.
func (l *locker) lockMessage(message string) string {
	switch {
	case l.command == "":
		return message
	case message == "":
		return l.command
	}
	return l.command + ": " + message
}

func (l *locker) client(ctx context.Context) (*sidecarclient.Client, error) {
	return l.s.sidecar(ctx, l.s.primaryHost())
}

func (l *locker) Acquire(ctx context.Context, message, version string) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(l.wait)
	for {
		cctx, cancel := context.WithTimeout(ctx, sidecarCallTimeout)
		_, err := c.AcquireLock(cctx, contract.LockRequest{Holder: lockHolder(), Message: l.lockMessage(message), Version: version})
		cancel()
		if err == nil {
			return nil
		}
		var apiErr *contract.Error
		if !errors.As(err, &apiErr) || apiErr.Code != contract.CodeLockHeld {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w%s", err, lockHint(apiErr.Lock))
		}
		l.s.out.Step(l.s.primaryHost(), "lock", "held by someone else, waiting", 0)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(lockPollInterval):
		}
	}
}

// lockHint says what the lock is held for and how to get past it; the
// sidecar's message already says by whom and since when.
func lockHint(st *contract.LockStatus) string {
	held := heldFor(st)
	if st != nil && st.Stale {
		return held + " (the lock looks stale; `docker kamal lock release` breaks it)"
	}
	return held + " (wait with --lock-wait, or see `docker kamal lock status`; if that command is no longer running, `docker kamal lock release`)"
}

// heldFor is ` for "deploy" of version v2` from a lock's message and
// version, or "" when it records neither.
func heldFor(st *contract.LockStatus) string {
	if st == nil {
		return ""
	}
	out := ""
	if st.Message != "" {
		out = fmt.Sprintf(" for %q", st.Message)
	}
	if st.Version != "" {
		out += " of version " + st.Version
	}
	return out
}

func (l *locker) Release(ctx context.Context) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	_, err = c.ReleaseLock(ctx, contract.LockRequest{Holder: lockHolder()})
	return err
}

// lockHolder names this invocation: the sidecar lets a holder re-acquire
// its own lock, so two deploys by the same user on the same machine must
// not share a name.
func lockHolder() string {
	return fmt.Sprintf("%s (pid %d)", performer(), os.Getpid())
}

// LockStatus prints who holds the deploy lock on the primary host.
func (s *Session) LockStatus(ctx context.Context) error {
	host := s.primaryHost()
	cl, err := s.sidecar(ctx, host)
	if err != nil {
		return err
	}
	st, err := cl.Lock(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(s.Opts.Stdout, describeLock(host, st))
	return err
}

func describeLock(host string, st *contract.LockStatus) string {
	if !st.Locked {
		return "There is no deploy lock on " + host
	}
	stale := ""
	if st.Stale {
		stale = " (STALE: release with `docker kamal lock release`)"
	}
	return fmt.Sprintf("Locked by: %s at %s\nVersion: %s\nMessage: %s%s", st.Holder, st.AcquiredAt.Format(time.RFC3339), st.Version, st.Message, stale)
}

// AcquireLock takes the deploy lock on the primary host with message, for
// --version; it is held until released by `lock release`.
func (s *Session) AcquireLock(ctx context.Context, message string) error {
	host := s.primaryHost()
	cl, err := s.sidecar(ctx, host)
	if err != nil {
		return err
	}
	if _, err := cl.AcquireLock(ctx, contract.LockRequest{Holder: performer(), Message: message, Version: s.Opts.Version}); err != nil {
		return fmt.Errorf("acquire deploy lock: %w", err)
	}
	_, err = fmt.Fprintf(s.Opts.Stdout, "Acquired the deploy lock on %s\n", host)
	return err
}

// ReleaseLock breaks the deploy lock on the primary host, whoever holds
// it, as Kamal's does.
func (s *Session) ReleaseLock(ctx context.Context) error {
	host := s.primaryHost()
	cl, err := s.sidecar(ctx, host)
	if err != nil {
		return err
	}
	st, err := cl.Lock(ctx)
	if err != nil {
		return fmt.Errorf("read deploy lock: %w", err)
	}
	if !st.Locked {
		// Nothing to do is not a failure: the lock is free, as asked.
		_, err = fmt.Fprintf(s.Opts.Stdout, "There was no deploy lock on %s: nothing to release\n", host)
		return err
	}
	if _, err := cl.ReleaseLock(ctx, contract.LockRequest{Holder: performer(), Force: true}); err != nil {
		return fmt.Errorf("release deploy lock: %w", err)
	}
	_, err = fmt.Fprintf(s.Opts.Stdout, "Released the deploy lock on %s (held by %s since %s%s)\n", host, st.Holder,
		st.AcquiredAt.Format(time.RFC3339), heldFor(st))
	return err
}

// auditor appends one audit line on every selected host.
type auditor struct{ s *Session }

func (a auditor) Audit(ctx context.Context, action, version, result string) error {
	hosts := a.s.Cfg.AllHosts()
	// Every host at once: one by one, a deploy to a few hosts of a large
	// fleet spent a dial per other host (0.1 s each) after its last swap.
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := a.s.sidecar(ctx, h)
			if err == nil {
				_, err = c.AppendAudit(ctx, contract.AuditEntry{
					Who: performer(), Action: action, Host: h, Result: result,
					What: a.s.Cfg.Service + destSuffix(a.s.Cfg.Destination) + " " + version,
				})
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", h, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func destSuffix(dest string) string {
	if dest == "" {
		return ""
	}
	return "@" + dest
}

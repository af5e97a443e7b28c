package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Run tunables.
const (
	// shutdownTimeout bounds draining the listeners on exit.
	shutdownTimeout = 10 * time.Second
	// readHeaderTimeout bounds reading a request's headers.
	readHeaderTimeout = 10 * time.Second
	// reconcileRetries and reconcileRetryDelay: after a host reboot Traefik
	// may start after the sidecar, so roles that failed to reconcile are
	// tried again a few times.
	reconcileRetries    = 3
	reconcileRetryDelay = 10 * time.Second
)

// Config is what the sidecar runs with; zero values take the defaults.
type Config struct {
	// StateDir holds the journal, lock, audit log and Traefik's dynamic
	// config (default contract.StateDir).
	StateDir string
	// SocketPath is the mutating API's unix socket (default
	// contract.SocketPath), created with mode 0600.
	SocketPath string
	// MonitorAddr is the read-only listener (default
	// contract.DefaultMonitorAddr); "off" disables it.
	MonitorAddr string
	// DockerHost is the engine to use (default DOCKER_HOST or the local
	// socket).
	DockerHost string
	// Network is the app network (default contract.DefaultNetwork).
	Network string
	// Version is the build version.
	Version string
	// StaleLockAfter, default DefaultStaleLockAfter.
	StaleLockAfter time.Duration
	// Logger, default slog.Default().
	Logger *slog.Logger
}

// Run serves the API and the monitoring listener and reconciles the host
// once at start, until ctx ends. Failing to reconcile a role is logged, not
// fatal: the API stays up so the plugin can repair it.
func Run(ctx context.Context, cfg Config) error {
	cfg = withDefaults(cfg)
	log := cfg.Logger
	deps, closeDeps, err := NewDeps(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDeps()
	s := NewServer(ctx, ServerConfig{StateDir: cfg.StateDir, Version: cfg.Version, StaleLockAfter: cfg.StaleLockAfter, Logger: log}, deps)

	apiLn, err := listenUnix(cfg.SocketPath)
	if err != nil {
		return err
	}
	var monLn net.Listener
	if cfg.MonitorAddr != "off" {
		monLn, err = net.Listen("tcp", cfg.MonitorAddr)
		if err != nil {
			_ = apiLn.Close() // failing already: the listen error is the one to report
			return fmt.Errorf("listen on %s: %w", cfg.MonitorAddr, err)
		}
	}
	log.Info("kamal-sidecar serving", "version", cfg.Version, "socket", cfg.SocketPath, "monitor", cfg.MonitorAddr, "stateDir", cfg.StateDir)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return serve(gctx, apiLn, s.APIHandler(), log.With("component", "api"))
	})
	if monLn != nil {
		g.Go(func() error {
			return serve(gctx, monLn, s.MonitorHandler(), log.With("component", "monitor"))
		})
	}
	if h, ok := deps.Maintenance.(http.Handler); ok && cfg.MonitorAddr != "off" {
		// The 503 page: reached by Traefik on the app network only.
		mLn, err := net.Listen("tcp", fmt.Sprintf(":%d", contract.MaintenancePort))
		if err != nil {
			log.Error("maintenance page listener", "err", err)
		} else {
			g.Go(func() error {
				return serve(gctx, mLn, h, log.With("component", "maintenance"))
			})
		}
	}
	g.Go(func() error {
		s.reconcileWithRetries(gctx, reconcileRetries, reconcileRetryDelay)
		return nil
	})
	g.Go(func() error {
		s.runWarm(gctx)
		return nil
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		log.Info("kamal-sidecar stopped")
		return nil
	}
	return err
}

func withDefaults(cfg Config) Config {
	if cfg.StateDir == "" {
		cfg.StateDir = contract.StateDir
	}
	if cfg.SocketPath == "" {
		cfg.SocketPath = contract.SocketPath
	}
	if cfg.MonitorAddr == "" {
		cfg.MonitorAddr = contract.DefaultMonitorAddr
	}
	if cfg.Network == "" {
		cfg.Network = "kamal"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// errSocketInUse: a live sidecar already serves the API socket.
var errSocketInUse = errors.New("another sidecar is serving it")

// listenUnix listens on path with mode 0600, replacing a stale socket left
// by a previous run (but never a live one).
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create socket dir: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		conn, derr := net.DialTimeout("unix", path, time.Second)
		if derr == nil {
			_ = conn.Close() // only a probe that someone answers; its close says nothing
			return nil, fmt.Errorf("listen on %s: %w", path, errSocketInUse)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
		}
	}
	old := umask(0o177)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close() // failing already: the chmod error is the one to report
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return ln, nil
}

// serve runs an HTTP server on ln until ctx ends, then shuts it down.
// Request contexts derive from ctx, so a swap under way sees the shutdown.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running at shutdown; closing their connections", "err", err)
		_ = srv.Close() // its only error is the listener's, which Shutdown closed already
	}
	// Serve returns http.ErrServerClosed once shut down: expected, not a
	// failure of the server.
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("serve after shutdown", "err", err)
	}
	return ctx.Err()
}

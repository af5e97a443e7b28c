// Command kamal-sidecar runs on every host and performs zero-downtime swaps.
// It serves the mutating API on a unix socket and a read-only monitoring
// listener; see pkg/sidecar.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/dockerkamal/docker-kamal/pkg/buildinfo"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/sidecar"
)

func main() {
	fs := flag.NewFlagSet("kamal-sidecar", flag.ContinueOnError)
	var (
		cfg      sidecar.Config
		level    slog.Level
		showVers bool
	)
	fs.StringVar(&cfg.StateDir, "state-dir", contract.StateDir, "state directory (journal, lock, audit log, Traefik config)")
	fs.StringVar(&cfg.SocketPath, "socket", contract.SocketPath, "unix socket of the mutating API (mode 0600)")
	fs.StringVar(&cfg.MonitorAddr, "monitor-addr", contract.DefaultMonitorAddr, `read-only listener address ("off" to disable)`)
	fs.StringVar(&cfg.DockerHost, "docker-host", "", "Docker engine (default $DOCKER_HOST or unix:///var/run/docker.sock)")
	fs.StringVar(&cfg.Network, "network", "kamal", "Docker network shared with app containers and Traefik")
	fs.DurationVar(&cfg.StaleLockAfter, "stale-lock-after", sidecar.DefaultStaleLockAfter, "report a deploy lock held longer than this as stale")
	fs.TextVar(&level, "log-level", slog.LevelInfo, "log level (DEBUG, INFO, WARN, ERROR)")
	fs.BoolVar(&showVers, "version", false, "print the version and exit")
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "version" {
		args = []string{"-version"}
	}
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	if showVers {
		fmt.Println(buildinfo.Version)
		return
	}
	cfg.Version = buildinfo.Version
	cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sidecar.Run(ctx, cfg); err != nil {
		cfg.Logger.Error("kamal-sidecar failed", "err", err)
		os.Exit(1)
	}
}

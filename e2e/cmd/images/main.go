// Command images builds (or reuses) every image and binary the tests need:
// the Debian host image, Traefik v3.6.12 from its Go module, PostgreSQL,
// Redis, the sample app, and the Rails stack (Rails base, PostgreSQL 17 and
// Redis from Debian trixie). `make images` runs it before the tests so a cold
// machine builds them once, up front.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 40*time.Minute)
	defer cancel()
	start := time.Now()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
	if err := ensureTraefikBinary(ctx, imgs.Traefik); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
	fmt.Printf("images ready in %s:\n  host     %s\n  traefik  %s\n  postgres %s\n  redis    %s\n  app      %s\n"+
		"  rails    %s (with %s, %s)\n",
		time.Since(start).Round(time.Second), imgs.Host, imgs.Traefik, imgs.Postgres, imgs.Redis, imgs.App,
		imgs.RailsBase, imgs.RailsPostgres, imgs.RailsRedis)
}

// ensureTraefikBinary puts the Traefik binary where pkg/traefik's
// integration tests look for it, copying it out of the image when the
// build cache was cleared but the image kept.
func ensureTraefikBinary(ctx context.Context, image string) error {
	dst := filepath.Join(harness.CacheDir(), "traefik-"+harness.TraefikVersion)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, "docker", "create", image).Output()
	if err != nil {
		return fmt.Errorf("copy traefik out of %s: %w", image, err)
	}
	id := strings.TrimSpace(string(out))
	defer exec.Command("docker", "rm", "-f", id).Run() //nolint:errcheck // best effort
	if out, err := exec.CommandContext(ctx, "docker", "cp", id+":/traefik", dst).CombinedOutput(); err != nil {
		return fmt.Errorf("copy traefik out of %s: %w: %s", image, err, out)
	}
	return nil
}

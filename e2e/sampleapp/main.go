// Command sampleapp is the web app the e2e tests deploy: shaped like a small
// Rails app behind Kamal, with switches to misbehave on purpose.
//
// Commands:
//
//	sampleapp serve        HTTP server on $PORT (default 3000)
//	sampleapp migrate      record one migration run in PostgreSQL ($DATABASE_URL)
//	sampleapp migrations   print the recorded runs, one JSON object a line
//	sampleapp healthcheck  GET /up on 127.0.0.1:$PORT; exit 0 when 200
//
// A leading "sampleapp" argument is ignored, so `docker run IMAGE sampleapp
// migrate` and `docker run IMAGE migrate` both work.
//
// Endpoints: /up (JSON {status, checks}, 200 or 503), /sleep?ms=N, /version,
// and / (JSON {version, host, path}). Every response carries X-App-Version
// and X-App-Host headers, and every body contains the version.
//
// Environment: APP_VERSION overrides the version baked in at build time;
// PORT; DATABASE_URL and REDIS_URL are checked by /up when set;
// SLOW_START_MS delays listening; NEVER_HEALTHY=1 makes /up answer 503;
// CRASH_ON_START=1 exits 1 at once; SHUTDOWN_TIMEOUT_MS bounds the drain on
// SIGTERM (default 30000); EXIT_ON_SIGTERM=1 exits at once on SIGTERM,
// dropping requests in flight (as many apps do); MIGRATE_SLEEP_MS and MIGRATE_FAIL=1 slow down or
// fail `migrate`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func appVersion() string {
	if v := os.Getenv("APP_VERSION"); v != "" {
		return v
	}
	return version
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "sampleapp: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "sampleapp" {
		args = args[1:]
	}
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		return serve(ctx)
	case "migrate":
		return migrate(ctx)
	case "migrations":
		return listMigrations(ctx, os.Stdout)
	case "healthcheck":
		return healthcheck(ctx)
	case "version":
		fmt.Println(appVersion())
		return nil
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, migrations, healthcheck, version)", cmd)
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// checkPostgres runs SELECT 1 on the database.
func checkPostgres(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("select 1: %w", err)
	}
	return nil
}

// checkRedis sends PING (after AUTH when the URL has a password) and expects
// +PONG. REDIS_URL is redis://[[user]:password@]host[:port][/db].
func checkRedis(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "redis" {
		return fmt.Errorf("REDIS_URL: want redis://host:port")
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "6379")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl) //nolint:errcheck // a failed deadline shows up as a read error
	}
	r := bufio.NewReader(conn)
	send := func(args ...string) (string, error) {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(conn, b.String()); err != nil {
			return "", err
		}
		line, err := r.ReadString('\n')
		return strings.TrimSpace(line), err
	}
	if pw, ok := u.User.Password(); ok {
		args := []string{"AUTH", pw}
		if name := u.User.Username(); name != "" {
			args = []string{"AUTH", name, pw}
		}
		if reply, err := send(args...); err != nil || reply != "+OK" {
			return fmt.Errorf("auth: %q %v", reply, err)
		}
	}
	reply, err := send("PING")
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if reply != "+PONG" {
		return fmt.Errorf("ping: got %q", reply)
	}
	return nil
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS kamal_e2e_migrations (
	id serial PRIMARY KEY,
	version text NOT NULL,
	host text NOT NULL,
	ran_at timestamptz NOT NULL DEFAULT now()
)`

func connectDB(ctx context.Context) (*pgx.Conn, error) {
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return nil, errors.New("DATABASE_URL is not set")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return conn, nil
}

// migrate records one run (version, host, time) in kamal_e2e_migrations.
func migrate(ctx context.Context) error {
	pause, err := envMillis("MIGRATE_SLEEP_MS", 0)
	if err != nil {
		return err
	}
	conn, err := connectDB(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, migrationsTable); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	if pause > 0 {
		log.Printf("migrate: sleeping %v", pause)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return fmt.Errorf("migrate: %w", ctx.Err())
		}
	}
	if os.Getenv("MIGRATE_FAIL") == "1" {
		return errors.New("migrate: MIGRATE_FAIL=1: failing on purpose")
	}
	host, _ := os.Hostname()
	var id int
	if err := conn.QueryRow(ctx, "INSERT INTO kamal_e2e_migrations (version, host) VALUES ($1, $2) RETURNING id",
		appVersion(), host).Scan(&id); err != nil {
		return fmt.Errorf("record migration: %w", err)
	}
	log.Printf("migrate: recorded run %d for version %s", id, appVersion())
	return nil
}

// Migration is one recorded migrate run.
type Migration struct {
	ID      int       `json:"id"`
	Version string    `json:"version"`
	Host    string    `json:"host"`
	RanAt   time.Time `json:"ran_at"`
}

func listMigrations(ctx context.Context, w io.Writer) error {
	conn, err := connectDB(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, migrationsTable); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	rows, err := conn.Query(ctx, "SELECT id, version, host, ran_at FROM kamal_e2e_migrations ORDER BY id")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	defer rows.Close()
	enc := json.NewEncoder(w)
	for rows.Next() {
		var m Migration
		if err := rows.Scan(&m.ID, &m.Version, &m.Host, &m.RanAt); err != nil {
			return fmt.Errorf("list migrations: %w", err)
		}
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Command testapp is the tiny HTTP server the integration tests run in a
// FROM-scratch image. It is configured by environment:
//
//	PORT       listen port (default 8080)
//	VERSION    echoed by / and /up
//	UNHEALTHY  when "1", /up answers 500
//	CRASH      when "1", log a line and exit 3 at start
//
// GET /sleep?ms=N answers after N ms. On SIGTERM it stops accepting, lets
// in-flight requests finish, then exits (so a drain loses nothing).
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	version := os.Getenv("VERSION")
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	log.Printf("testapp %s booting on :%s", version, port)
	if os.Getenv("CRASH") == "1" {
		log.Printf("testapp %s: crashing on purpose", version)
		os.Exit(3)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/up", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("UNHEALTHY") == "1" {
			http.Error(w, "not ready: "+version, http.StatusInternalServerError)
			return
		}
		_, _ = fmt.Fprintf(w, "up %s\n", version) // a failed write: the client is gone
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms")) // a bad value sleeps 0 ms
		if ms > 60000 {
			ms = 60000
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		_, _ = fmt.Fprintf(w, "slept %d %s\n", ms, version) // as above
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "%s\n", version) // as above
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		log.Fatalf("testapp: %v", err)
	case <-ctx.Done():
	}
	log.Printf("testapp %s draining", version)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Printf("testapp: shutdown: %v", err)
	}
	log.Printf("testapp %s stopped", version)
}

// Command loadgen drives fixed-rate HTTP load at a loopback address or a
// harness host and prints a summary (non-2xx, errors, p50/p99, version
// timeline). Harness network subnets (Docker networks labelled kamal-e2e)
// are allowed automatically; nothing else but loopback is.
//
//	go run ./e2e/cmd/loadgen -url http://10.213.5.11/ -rate 200 -duration 30s
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var cfg loadgen.Config
	fs.StringVar(&cfg.URL, "url", "", "target URL (loopback or a harness host)")
	fs.StringVar(&cfg.Host, "host", "", "Host header to send")
	fs.Float64Var(&cfg.Rate, "rate", loadgen.DefaultRate, "requests per second")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "stop after this long")
	fs.IntVar(&cfg.Count, "count", 0, "stop after this many requests (0: duration only)")
	fs.Float64Var(&cfg.FreshRatio, "fresh", loadgen.DefaultFreshRatio, "share of requests on fresh connections (negative: none)")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "per-request timeout")
	jsonOut := fs.String("json", "", "write the full report (every request) as JSON to this file")
	failOnError := fs.Bool("strict", false, "exit 1 when any request was non-2xx or failed")
	var allow []string
	fs.Func("allow", "also allow this CIDR (repeatable)", func(s string) error { allow = append(allow, s); return nil })
	if err := fs.Parse(args); err != nil {
		return 2, nil
	}
	if cfg.URL == "" {
		return 2, errors.New("-url is required")
	}
	prefixes, err := harnessSubnets(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: harness subnets unknown (%v); only loopback and -allow\n", err)
	}
	for _, a := range allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return 2, fmt.Errorf("-allow %q: %w", a, err)
		}
		prefixes = append(prefixes, p)
	}
	cfg.Allow = prefixes

	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return 2, err
	}
	fmt.Print(rep.Summary.String())
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return 1, err
		}
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return 1, fmt.Errorf("write report: %w", err)
		}
	}
	if *failOnError && (rep.Summary.Non2xx > 0 || rep.Summary.Errors > 0) {
		return 1, nil
	}
	return 0, nil
}

// harnessSubnets returns the subnets of the harness's Docker networks.
func harnessSubnets(ctx context.Context) ([]netip.Prefix, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ids, err := exec.CommandContext(ctx, "docker", "network", "ls", "-q", "--filter", "label=kamal-e2e").Output()
	if err != nil {
		return nil, fmt.Errorf("list harness networks: %w", err)
	}
	if len(strings.Fields(string(ids))) == 0 {
		return nil, nil
	}
	out, err := exec.CommandContext(ctx, "docker", append([]string{"network", "inspect", "--format",
		"{{range .IPAM.Config}}{{.Subnet}} {{end}}"}, strings.Fields(string(ids))...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("inspect harness networks: %w", err)
	}
	var ps []netip.Prefix
	for _, f := range strings.Fields(string(out)) {
		if p, err := netip.ParsePrefix(f); err == nil {
			ps = append(ps, p)
		}
	}
	return ps, nil
}

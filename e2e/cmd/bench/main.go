// Command bench is `make bench`: it measures docker kamal on harness hosts
// (see package bench), prints a table, writes bench/results.json and draws
// the figures and README in docs/bench/. With -smoke it runs every scenario
// with tiny counts and writes nothing unless -out is given.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dockerkamal/docker-kamal/bench"
)

func main() {
	var (
		smoke   = flag.Bool("smoke", false, "tiny counts (for make test); results are not written unless -out is set")
		only    = flag.String("only", "", "comma-separated scenarios to run (startup, ship, setup, naive, zero-downtime, cutover, rollback, e2e-deploy, footprint, setup-2, rails, fan-out)")
		out     = flag.String("out", "", "directory for results.json (default bench/ in the checkout; none with -smoke)")
		docs    = flag.String("docs", "", "directory for the figures and README (default docs/bench/ in the checkout; none with -smoke)")
		repeats = flag.Int("repeats", 0, "repeats per timed figure (default 5, smoke 1)")
		minReq  = flag.Int("requests", 0, "minimum requests per load case (default 10000, smoke 200)")
		rate    = flag.Float64("rate", 0, "requests/s per web host (default 200, smoke 50)")
		logs    = flag.String("logs", "", "directory for every docker kamal command's output (default a new temp dir)")
		render  = flag.Bool("render", false, "run nothing: re-render the table, figures and README from the existing results.json (after editing bench/notes.md)")
		budget  = flag.Duration("timeout", 90*time.Minute, "bound on the whole run")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *budget)
	defer cancel()
	if *render {
		if err := rerender(*out, *docs); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *logs == "" {
		*logs = filepath.Join(os.TempDir(), "kamal-bench-logs-"+time.Now().Format("20060102-150405"))
	}
	if err := run(ctx, *smoke, *only, *out, *docs, *logs, *repeats, *minReq, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, smoke bool, only, out, docs, logs string, repeats, minReq int, rate float64) error {
	root, err := repoRoot(ctx)
	if err != nil {
		return err
	}
	if !smoke && out == "" && docs == "" {
		{
			out = filepath.Join(root, "bench")
		}
		if docs == "" {
			docs = filepath.Join(root, "docs", "bench")
		}
	}
	opts := bench.Options{Root: root, Smoke: smoke, Repeats: repeats, MinRequests: minReq, Rate: rate, Log: os.Stderr, LogDir: logs}
	fmt.Fprintf(os.Stderr, "command logs in %s\n", logs)
	if only != "" {
		opts.Only = strings.Split(only, ",")
	}
	res, runErr := bench.Run(ctx, opts)
	if res == nil {
		return runErr
	}
	fmt.Println()
	if err := bench.WriteTable(os.Stdout, res); err != nil {
		return err
	}
	if out != "" || docs != "" {
		if out == "" {
			out = docs
		}
		if docs == "" {
			docs = out
		}
		notes, _ := os.ReadFile(filepath.Join(root, "bench", "notes.md")) // optional
		if err := bench.Write(res, out, docs, string(notes)); err != nil {
			return err
		}
		fmt.Printf("\nwrote %s and %s\n", filepath.Join(out, "results.json"), filepath.Join(docs, "README.md"))
	}
	if runErr != nil {
		return runErr
	}
	if smoke {
		for _, s := range res.Scenarios {
			if s.Error != "" {
				return fmt.Errorf("smoke: scenario %s failed: %s", s.Name, s.Error)
			}
		}
	}
	return nil
}

func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("find the repository root (run from the checkout): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// rerender writes the table, figures and README again from results.json.
func rerender(out, docs string) error {
	root, err := repoRoot(context.Background())
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "bench")
	}
	if docs == "" {
		docs = filepath.Join(root, "docs", "bench")
	}
	data, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		return err
	}
	var res bench.Results
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("read results.json: %w", err)
	}
	if err := bench.WriteTable(os.Stdout, &res); err != nil {
		return err
	}
	notes, _ := os.ReadFile(filepath.Join(root, "bench", "notes.md")) // optional
	return bench.Write(&res, out, docs, string(notes))
}

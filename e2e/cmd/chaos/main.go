// Command chaos is `make chaos`: the seeded chaos soak of package
// bench/chaos on three harness hosts. It prints the seed and the command
// that replays the run first, then a line per cycle, and exits 1 when an
// invariant was violated. With -out it writes the results as JSON and a
// Markdown summary beside it (the same name with .md).
package main

import (
	"context"
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
	"github.com/dockerkamal/docker-kamal/bench/chaos"
)

func main() {
	var (
		seed   = flag.Uint64("seed", 0, "seed of the cycles (default: from the clock, printed)")
		cycles = flag.Int("cycles", 50, "number of cycles")
		faults = flag.String("faults", "", "comma-separated faults to draw from (default the whole matrix: "+faultNames()+")")
		rate   = flag.Float64("rate", chaos.DefaultRate, "requests/s to each host")
		out    = flag.String("out", "", "write the results as JSON here and a summary as Markdown beside it (.md)")
		md     = flag.String("md", "", "where the Markdown summary goes (default -out with .md)")
		logs   = flag.String("logs", "", "directory for every docker kamal command's output (default a new temp dir)")
		budget = flag.Duration("timeout", 60*time.Minute, "bound on the whole run")
	)
	flag.Parse()
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	only, err := chaos.ParseFaults(*faults)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	if *logs == "" {
		*logs = filepath.Join(os.TempDir(), "kamal-chaos-logs-"+time.Now().Format("20060102-150405"))
	}
	replay := fmt.Sprintf("go run ./e2e/cmd/chaos -seed %d -cycles %d", *seed, *cycles)
	if *faults != "" {
		replay += " -faults " + *faults
	}
	fmt.Printf("chaos: seed %d, %d cycles; replay with: %s\n", *seed, *cycles, replay)
	fmt.Printf("chaos: command logs in %s\n", *logs)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *budget)
	defer cancel()
	root, err := repoRoot(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	res, runErr := chaos.Run(ctx, chaos.Options{Root: root, Seed: *seed, Cycles: *cycles, Faults: only, Rate: *rate,
		Log: os.Stdout, LogDir: *logs, Replay: replay})
	if res != nil {
		fmt.Println()
		fmt.Print(res.Text())
		if *out != "" {
			if *md == "" {
				*md = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".md"
			}
			if err := res.Write(*out, *md); err != nil {
				fmt.Fprintln(os.Stderr, "chaos:", err)
				os.Exit(1)
			}
			fmt.Printf("wrote %s and %s\n", *out, *md)
			if err := updateReadme(*md); err != nil {
				fmt.Fprintln(os.Stderr, "chaos:", err)
				os.Exit(1)
			}
		}
	}
	if runErr != nil {
		fmt.Fprintln(os.Stderr, "chaos:", runErr)
		os.Exit(1)
	}
	if n := len(res.Summary.Violations); n > 0 {
		fmt.Fprintf(os.Stderr, "chaos: %d invariant violations (seed %d)\n", n, *seed)
		os.Exit(1)
	}
}

func faultNames() string {
	names := make([]string, len(chaos.Faults))
	for i, f := range chaos.Faults {
		names[i] = string(f)
	}
	return strings.Join(names, ",")
}

func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("find the repository root (run from the checkout): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// updateReadme puts the summary at md into the benchmarks README beside it
// (docs/bench/README.md), when md is that directory's chaos file.
func updateReadme(md string) error {
	if filepath.Base(md) != bench.ChaosFile {
		return nil
	}
	readme := filepath.Join(filepath.Dir(md), "README.md")
	cur, err := os.ReadFile(readme)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	summary, err := os.ReadFile(md)
	if err != nil {
		return err
	}
	if err := os.WriteFile(readme, []byte(bench.WithChaosSection(string(cur), string(summary))), 0o644); err != nil {
		return fmt.Errorf("update %s: %w", readme, err)
	}
	fmt.Printf("updated %s\n", readme)
	return nil
}

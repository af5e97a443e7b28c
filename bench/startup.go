package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// benchStartup times `docker kamal version` against `docker version
// --format '{{.Client.Version}}'`, interleaved, through the docker CLI.
func (e *env) benchStartup(ctx context.Context, s *Scenario) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	kamal := []string{"kamal", "version"}
	docker := []string{"version", "--format", "{{.Client.Version}}"}
	// Warm the page cache for both binaries first.
	for i := 0; i < 2; i++ {
		for _, args := range [][]string{kamal, docker} {
			if r := e.plugin.run(ctx, dir, 30*time.Second, "docker", args...); r.Err != nil {
				return r.Err
			}
		}
	}
	var tk, td []float64
	for i := 0; i < e.opts.StartupRuns; i++ {
		rk := e.plugin.run(ctx, dir, 30*time.Second, "docker", kamal...)
		if rk.Err != nil {
			return rk.Err
		}
		if got := strings.TrimSpace(rk.Output()); got != e.plugin.Version {
			return fmt.Errorf("docker kamal version printed %q, want %q", got, e.plugin.Version)
		}
		rd := e.plugin.run(ctx, dir, 30*time.Second, "docker", docker...)
		if rd.Err != nil {
			return rd.Err
		}
		tk = append(tk, ms(rk.Took))
		td = append(td, ms(rd.Took))
	}
	s.Add("docker kamal version", "ms", tk, AtMost(100))
	s.Add("docker version (client)", "ms", td, nil)
	s.AddRatio("kamal / docker version", tk, td, nil)
	s.Note("%d interleaved runs of each after 2 warm-up runs, both through the docker CLI", len(tk))
	return nil
}

func ms(d time.Duration) float64   { return float64(d) / float64(time.Millisecond) }
func secs(d time.Duration) float64 { return d.Seconds() }

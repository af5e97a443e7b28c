package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// owner identifies this process across PID reuse: "PID-STARTTIME".
var owner = sync.OnceValue(func() string {
	return fmt.Sprintf("%d-%s", os.Getpid(), procStart(os.Getpid()))
})

// procStart returns the start time (clock ticks since boot) of pid from
// /proc, or "" when the process does not exist.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may contain spaces
	if i < 0 {
		return ""
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return ""
	}
	return fields[19] // field 22 of stat: starttime
}

// ownerAlive reports whether the process named by an owner label still runs.
func ownerAlive(o string) bool {
	pid, start, ok := strings.Cut(o, "-")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(pid)
	if err != nil {
		return false
	}
	return start != "" && procStart(n) == start
}

// removeByLabel force-removes containers (with their anonymous volumes),
// then networks and volumes matching the label filter ("key=value").
func removeByLabel(ctx context.Context, filter string) error {
	var errs []error
	if ids, err := listIDs(ctx, "ps", "-aq", "--filter", "label="+filter); err != nil {
		errs = append(errs, err)
	} else if len(ids) > 0 {
		if _, err := docker(ctx, append([]string{"rm", "-f", "-v"}, ids...)...); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove containers: %w", err))
		}
	}
	if ids, err := listIDs(ctx, "network", "ls", "-q", "--filter", "label="+filter); err != nil {
		errs = append(errs, err)
	} else if len(ids) > 0 {
		if _, err := docker(ctx, append([]string{"network", "rm"}, ids...)...); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove networks: %w", err))
		}
	}
	if ids, err := listIDs(ctx, "volume", "ls", "-q", "--filter", "label="+filter); err != nil {
		errs = append(errs, err)
	} else if len(ids) > 0 {
		if _, err := docker(ctx, append([]string{"volume", "rm", "-f"}, ids...)...); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove volumes: %w", err))
		}
	}
	return errors.Join(errs...)
}

func isNotFound(err error) bool {
	s := err.Error()
	return strings.Contains(s, "No such") || strings.Contains(s, "not found")
}

func listIDs(ctx context.Context, args ...string) ([]string, error) {
	out, err := docker(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("list harness objects: %w", err)
	}
	return strings.Fields(out), nil
}

// Sweep removes harness containers, networks and volumes left behind by
// processes that no longer run (a crashed or interrupted test run). Objects
// of live test processes are left alone, so parallel test binaries are safe.
func Sweep(ctx context.Context) error {
	runs := map[string]bool{}
	for _, kind := range [][]string{
		{"ps", "-a", "--format"},
		{"network", "ls", "--format"},
		{"volume", "ls", "--format"},
	} {
		args := append(kind, `{{.Label "`+LabelRun+`"}} {{.Label "`+LabelOwner+`"}}`, "--filter", "label="+Label)
		out, err := docker(ctx, args...)
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		for _, line := range strings.Split(out, "\n") {
			run, o, _ := strings.Cut(strings.TrimSpace(line), " ")
			if run != "" && !ownerAlive(o) {
				runs[run] = true
			}
		}
	}
	var errs []error
	for run := range runs {
		if err := removeByLabel(ctx, LabelRun+"="+run); err != nil {
			errs = append(errs, fmt.Errorf("sweep run %s: %w", run, err))
		}
	}
	return errors.Join(errs...)
}

var shared struct {
	sync.Mutex
	inMain bool
	fleets map[int]*Fleet
	errs   map[int]error
}

// Main is for TestMain: it checks the Docker daemon, sweeps leftovers, runs
// the tests, and removes the shared fleets and everything else this process
// created. On SIGINT/SIGTERM it removes this process's objects and exits.
//
//	func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }
func Main(m *testing.M) int {
	ctx := context.Background()
	if err := CheckDocker(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	if err := Sweep(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	shared.Lock()
	shared.inMain = true
	shared.Unlock()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "e2e: %v: removing harness objects\n", sig)
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := removeByLabel(cctx, LabelOwner+"="+owner()); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		}
		os.Exit(2)
	}()

	code := m.Run()

	signal.Stop(sigs)
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	shared.Lock()
	for _, f := range shared.fleets {
		if err := f.Close(cctx); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: remove shared fleet: %v\n", err)
			code = 1
		}
	}
	shared.Unlock()
	if err := removeByLabel(cctx, LabelOwner+"="+owner()); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: remove leftovers: %v\n", err)
		code = 1
	}
	return code
}

// SharedFleet returns a fleet of n hosts shared by every test of the package
// that asks for n hosts; it is started on first use and removed when Main
// returns. Tests that break a shared host (partition, stop) must heal it
// before they return. TestMain must call Main.
func SharedFleet(t testing.TB, n int) *Fleet {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.inMain {
		t.Fatal("harness.SharedFleet needs TestMain to call harness.Main")
	}
	if f, ok := shared.fleets[n]; ok {
		return f
	}
	if err, ok := shared.errs[n]; ok {
		t.Fatalf("shared fleet of %d hosts failed to start earlier: %v", n, err)
	}
	if shared.fleets == nil {
		shared.fleets = map[int]*Fleet{}
		shared.errs = map[int]error{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	f, err := NewFleet(ctx, n)
	if err != nil {
		if f != nil {
			f.Close(ctx) //nolint:errcheck // Main's owner sweep removes what remains
		}
		shared.errs[n] = err
		t.Fatalf("start shared fleet of %d hosts: %v", n, err)
	}
	shared.fleets[n] = f
	return f
}

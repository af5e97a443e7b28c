package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/bench"
	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// Tunables.
const (
	// Service is the soak app's service name.
	Service = "chaos"
	// Retain is the app's retain_containers.
	Retain = 3
	// deployTimeout is the app's deploy_timeout, s: how long a
	// never-healthy deploy waits.
	deployTimeout = 8
	// commandTimeout bounds one docker kamal command.
	commandTimeout = 4 * time.Minute
	// recoverTimeout bounds the wait for a healed host to serve again.
	recoverTimeout = 90 * time.Second
	// DefaultRate is requests/s per host.
	DefaultRate = 40.0
)

// appYML is web on every host behind Traefik, quick health, small retention.
const appYML = `service: chaos
image: kamal-e2e-app
servers:
  web:
    hosts:
%[1]sproxy:
  app_port: 3000
  healthcheck:
    path: /up
env:
  clear:
    PORT: "3000"
readiness_delay: 1
deploy_timeout: %[3]d
drain_timeout: 3
retain_containers: %[4]d
ssh:
  config: %[2]s
`

// Options configure a soak.
type Options struct {
	// Root is the repository checkout (binaries are built from it).
	Root   string
	Seed   uint64
	Cycles int
	// Faults, when set, restricts the faults drawn.
	Faults []Fault
	// Rate is requests/s per host (default DefaultRate).
	Rate float64
	// Log receives progress lines; LogDir, when set, every command's
	// output.
	Log    io.Writer
	LogDir string
	// Replay is the command line that replays the run (printed, recorded).
	Replay string
}

// soak is a running soak's state.
type soak struct {
	opts   Options
	f      *harness.Fleet
	plugin *bench.Plugin
	dir    string
	prefix string
	// live is the version the fleet serves, prev the one before (the
	// rollback target), images the versions built.
	live, prev string
	next       int
	images     []string
	// expected is each op's expected duration, from its fault-free runs.
	expected map[Op][]time.Duration
	logs     int
}

func (s *soak) logf(format string, args ...any) { fmt.Fprintf(s.opts.Log, format+"\n", args...) }

// Run runs the soak: setup of three fresh harness hosts, then the cycles.
// The hosts and the images it built are removed before it returns.
func Run(ctx context.Context, opts Options) (*Results, error) {
	if opts.Rate == 0 {
		opts.Rate = DefaultRate
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	cycles, err := Plan(opts.Seed, opts.Cycles, 3, opts.Faults)
	if err != nil {
		return nil, err
	}
	res := &Results{Seed: opts.Seed, Cycles: opts.Cycles, Replay: opts.Replay, Started: time.Now().UTC(),
		CPUs: runtime.NumCPU(), Rate: opts.Rate, Hosts: 3, Retain: Retain, Commit: commit(ctx, opts.Root)}
	defer func() { res.Seconds = time.Since(res.Started).Seconds(); res.Summary = summarize(res.Runs) }()
	s := &soak{opts: opts, expected: map[Op][]time.Duration{}}
	work, err := s.setup(ctx)
	defer s.cleanup(work)
	if err != nil {
		return res, err
	}
	for _, c := range cycles {
		if err := ctx.Err(); err != nil {
			res.Error = err.Error()
			return res, err
		}
		s.logf("==> %s", c)
		r, err := s.cycle(ctx, c)
		if r != nil {
			res.Runs = append(res.Runs, r)
			s.logf("    %s", r.line())
		}
		if err != nil {
			res.Error = fmt.Sprintf("cycle %d: %v", c.N, err)
			return res, fmt.Errorf("cycle %d: %w", c.N, err)
		}
	}
	return res, nil
}

// setup starts the hosts, builds the plugin and sets the app up at its
// first version.
func (s *soak) setup(ctx context.Context) (string, error) {
	if err := harness.CheckDocker(ctx); err != nil {
		return "", err
	}
	if err := harness.Sweep(ctx); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp("", "kamal-chaos-")
	if err != nil {
		return "", err
	}
	id := make([]byte, 2)
	rand.Read(id) //nolint:errcheck // crypto/rand never fails
	s.prefix = "ch" + hex.EncodeToString(id)
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		return work, err
	}
	if s.plugin, err = bench.InstallPlugin(ctx, s.opts.Root, work); err != nil {
		return work, err
	}
	s.plugin.Env = []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik}
	s.logf("==> starting 3 harness hosts")
	if s.f, err = harness.NewFleet(ctx, 3); err != nil {
		return work, err
	}
	s.dir = filepath.Join(work, "app")
	var hosts strings.Builder
	for _, h := range s.f.Hosts {
		fmt.Fprintf(&hosts, "      - %s\n", h.Addr)
	}
	files := map[string]string{
		"config/deploy.yml": fmt.Sprintf(appYML, hosts.String(), s.f.SSHConfig, deployTimeout, Retain),
		".kamal/secrets":    "",
	}
	for name, content := range files {
		p := filepath.Join(s.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return work, err
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			return work, err
		}
	}
	v, err := s.newVersion(ctx, false)
	if err != nil {
		return work, err
	}
	s.logf("==> docker kamal setup (version %s)", v)
	c, err := s.run(ctx, "setup", "--skip-push", "--version", v)
	if err != nil {
		return work, err
	}
	if c.Exit != 0 {
		return work, fmt.Errorf("setup failed (exit %d):\n%s", c.Exit, c.tail(20))
	}
	s.live = v
	return work, nil
}

// cleanup removes the hosts, the built images and the work directory.
func (s *soak) cleanup(work string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if s.f != nil {
		if err := s.f.Close(ctx); err != nil {
			s.logf("remove harness hosts: %v", err)
		}
	}
	if len(s.images) > 0 {
		exec.CommandContext(ctx, "docker", append([]string{"image", "rm", "-f"}, s.images...)...).Run() //nolint:errcheck // best effort
	}
	if s.plugin != nil {
		s.plugin.Close(ctx)
	}
	if work != "" {
		os.RemoveAll(work)
	}
}

// newVersion builds the next version: v1 of the sample app with its own
// APP_VERSION (a new image ID, no new layer), never healthy if asked.
func (s *soak) newVersion(ctx context.Context, neverHealthy bool) (string, error) {
	s.next++
	v := fmt.Sprintf("%s-%d", s.prefix, s.next)
	env := "APP_VERSION=" + v
	if neverHealthy {
		v = fmt.Sprintf("%s-nh%d", s.prefix, s.next)
		env = "APP_VERSION=" + v + " NEVER_HEALTHY=1"
	}
	ref := harness.SampleAppRepo + ":" + v
	df := "FROM " + harness.SampleAppRepo + ":v1\nLABEL kamal-e2e-image=1\nENV " + env + "\n"
	cmd := exec.CommandContext(ctx, "docker", "build", "-q", "-t", ref, "-")
	cmd.Stdin = strings.NewReader(df)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w: %s", ref, err, out)
	}
	s.images = append(s.images, ref)
	return v, nil
}

// start starts a docker kamal command.
func (s *soak) start(ctx context.Context, args ...string) (*command, error) {
	return startCommand(ctx, s.dir, s.plugin.DockerConfig, s.plugin.Env, args...)
}

// run runs a docker kamal command to its end and logs it.
func (s *soak) run(ctx context.Context, args ...string) (*command, error) {
	c, err := s.start(ctx, args...)
	if err != nil {
		return nil, err
	}
	err = c.wait(commandTimeout)
	s.saveLog(c)
	return c, err
}

// saveLog writes a command's output to the log directory, if any.
func (s *soak) saveLog(c *command) {
	if s.opts.LogDir == "" {
		return
	}
	s.logs++
	name := fmt.Sprintf("%03d-%s.log", s.logs, strings.Join(c.Args[:min(2, len(c.Args))], "_"))
	if err := os.MkdirAll(s.opts.LogDir, 0o755); err == nil {
		os.WriteFile(filepath.Join(s.opts.LogDir, name), []byte(c.log()), 0o644) //nolint:errcheck // diagnostics only
	}
}

func commit(ctx context.Context, root string) string {
	cmd := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// errHarness marks a failure of the harness itself (not an invariant).
var errHarness = errors.New("harness")

// Command demo is `make demo`: it builds the images, starts three local
// Docker-in-Docker hosts and a registry, installs the plugin, and deploys
// the example Rails app (examples/rails, its Rails 8 config/deploy.yml):
// web on two hosts, the Sidekiq job role, PostgreSQL and Redis on the
// third. It then deploys a second version under constant load and prints
// the URL, the failed-request count and whether both versions' assets
// answer.
//
// With -keep it leaves the hosts running until Ctrl-C; otherwise it removes
// everything it created before exiting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// Demo-only secrets: throwaway values for throwaway hosts.
const (
	demoDBPassword       = "demo-db-not-so-secret"
	demoRegistryPassword = "demo-registry-not-so-secret"
)

func main() {
	keep := flag.Bool("keep", false, "keep the hosts running until Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) {
	fmt.Printf("\n==> "+format+"\n", args...)
}

// demo is one run: the hosts, the app and how to drive the plugin.
type demo struct {
	fleet *harness.Fleet
	app   *harness.RailsApp
	env   []string
}

func run(ctx context.Context, keep bool) error {
	t0 := time.Now()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	step("building images (host, Traefik, registry, Rails base, PostgreSQL 17, Redis); the first run takes several minutes, later runs reuse them")
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		return err
	}
	if _, err := harness.RegistryImage(ctx); err != nil {
		return err
	}
	fmt.Printf("images ready in %s\n", time.Since(t0).Round(time.Second))

	step("installing the plugin (./install.sh)")
	if err := sh(ctx, root, nil, "./install.sh"); err != nil {
		return err
	}
	dockerConfig, err := userDockerConfig()
	if err != nil {
		return err
	}

	step("starting 3 Docker-in-Docker hosts and a registry")
	fleet, err := harness.NewFleet(ctx, 3)
	defer func() {
		if fleet == nil {
			return
		}
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		fmt.Println("\n==> removing the demo hosts")
		if err := fleet.Close(cctx); err != nil {
			fmt.Fprintln(os.Stderr, "demo: remove hosts:", err)
		}
	}()
	if err != nil {
		return err
	}
	reg, err := fleet.StartRegistry(ctx, "rails-demo", demoRegistryPassword)
	if reg != nil {
		// Best effort: removing the fleet removes the registry too.
		defer func() { _ = reg.Close(context.WithoutCancel(ctx)) }()
	}
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "kamal-demo-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }() // best effort: a temp dir
	app, err := harness.NewRailsApp(ctx, work, fleet, reg.Server)
	if err != nil {
		return err
	}
	d := &demo{fleet: fleet, app: app, env: []string{
		"HOME=" + app.Home, "DOCKER_CONFIG=" + dockerConfig,
		"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik, "DOCKER_KAMAL_SHIP_COMPRESS=0",
		"RAILS_DEMO_DATABASE_PASSWORD=" + demoDBPassword, "KAMAL_REGISTRY_PASSWORD=" + demoRegistryPassword,
	}}
	fmt.Printf("web on %s and %s; job, PostgreSQL and Redis on %s\napp: %s (config/deploy.yml)\n",
		fleet.Hosts[0].Addr, fleet.Hosts[1].Addr, fleet.Hosts[2].Addr, app.Dir)
	if err := d.deploy(ctx); err != nil {
		return err
	}
	fmt.Printf("\ndemo took %s\n", time.Since(t0).Round(time.Second))
	if keep {
		fmt.Println("hosts keep running; press Ctrl-C to remove them")
		<-ctx.Done()
	}
	return nil
}

// deploy runs setup with v1, deploys v2 under load and reports.
func (d *demo) deploy(ctx context.Context) error {
	if err := d.app.SetVersion("v1"); err != nil {
		return err
	}
	step("docker kamal setup --version v1   (build, push; sidecar, Traefik, PostgreSQL, Redis; deploy)")
	if err := d.kamal(ctx, "setup", "--version", "v1"); err != nil {
		return err
	}
	v1, err := d.assetPaths(ctx)
	if err != nil {
		return err
	}
	if err := d.app.SetVersion("v2"); err != nil {
		return err
	}
	step("docker kamal build push --version v2")
	if err := d.kamal(ctx, "build", "push", "--version", "v2"); err != nil {
		return err
	}
	step("docker kamal deploy --skip-push --version v2   under 20 req/s on each web host")
	gens, err := d.startLoad(ctx)
	if err != nil {
		return err
	}
	deployErr := d.kamal(ctx, "deploy", "--skip-push", "--version", "v2")
	step("load result (every request through Traefik during the deploy)")
	failed := 0
	for _, g := range gens {
		s := g.Stop().Summary
		failed += s.Non2xx + s.Errors
		fmt.Println(s)
	}
	if deployErr != nil {
		return deployErr
	}
	v2, err := d.assetPaths(ctx)
	if err != nil {
		return err
	}
	step("the app is served at")
	for _, h := range d.fleet.Hosts[:2] {
		fmt.Printf("  curl -H 'Host: %s' http://%s/\n", harness.RailsHost, h.Addr)
	}
	fmt.Printf("\nfailed requests during the deploy: %d\n", failed)
	assetErr := d.checkAssets(ctx, append(v1, v2...))
	if failed > 0 {
		return fmt.Errorf("%d requests failed during the deploy", failed)
	}
	return assetErr
}

func (d *demo) kamal(ctx context.Context, args ...string) error {
	return sh(ctx, d.app.Dir, d.env, "docker", append([]string{"kamal"}, args...)...)
}

func (d *demo) startLoad(ctx context.Context) ([]*loadgen.Generator, error) {
	var gens []*loadgen.Generator
	for _, h := range d.fleet.Hosts[:2] {
		g, err := loadgen.Start(ctx, loadgen.Config{URL: "http://" + h.Addr.String() + "/", Host: harness.RailsHost,
			Rate: 20, Duration: 5 * time.Minute, Count: 6000, Allow: []netip.Prefix{d.fleet.Subnet}})
		if err != nil {
			for _, g := range gens {
				g.Stop()
			}
			return nil, err
		}
		gens = append(gens, g)
	}
	return gens, nil
}

var assetRE = regexp.MustCompile(`/assets/application-[0-9a-f]{16}\.(?:css|js)`)

// assetPaths reads the fingerprinted assets the first web host's page links.
func (d *demo) assetPaths(ctx context.Context) ([]string, error) {
	status, body, err := d.get(ctx, "http://"+d.fleet.Hosts[0].Addr.String()+"/")
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("GET / answered %d: %v", status, err)
	}
	return assetRE.FindAllString(body, -1), nil
}

// checkAssets prints whether each version's assets answer 200 on both web
// hosts: with asset_path, the previous version's must too.
func (d *demo) checkAssets(ctx context.Context, paths []string) error {
	step("asset check: v1's and v2's fingerprinted assets on both web hosts")
	bad := 0
	for _, h := range d.fleet.Hosts[:2] {
		for _, p := range paths {
			status, _, err := d.get(ctx, "http://"+h.Addr.String()+p)
			fmt.Printf("  %-15s %-45s %d\n", h.Addr, p, status)
			if err != nil || status != http.StatusOK {
				bad++
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d asset requests did not answer 200", bad, 2*len(paths))
	}
	fmt.Printf("all %d asset requests answered 200\n", 2*len(paths))
	return nil
}

func (d *demo) get(ctx context.Context, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = harness.RailsHost
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end or not, nothing to report
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body), err
}

// userDockerConfig is where install.sh put the plugin: the demo runs docker
// with another HOME (whose .ssh/config reaches the demo hosts).
func userDockerConfig() (string, error) {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("find the docker config directory: set DOCKER_CONFIG or HOME")
	}
	return filepath.Join(home, ".docker"), nil
}

func sh(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w", name, args, err)
	}
	return nil
}

func repoRoot() (string, error) {
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("find the repository root (run make demo from the checkout): %w", err)
	}
	return string(out[:len(out)-1]), nil
}

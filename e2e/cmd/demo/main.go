// Command demo is `make demo`: it builds everything, starts two local
// Docker-in-Docker hosts, installs the plugin, runs `docker kamal setup` and
// a deploy of the sample app, then a second deploy under constant load, and
// prints the app's URLs and what the load saw.
//
// With -keep it leaves the hosts running until Ctrl-C; otherwise it removes
// everything it created before exiting.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

const deployYML = `service: demo
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %s
      - %s
proxy:
  app_port: 3000
  healthcheck:
    path: /up
env:
  clear:
    PORT: "3000"
  secret:
    - DEMO_SECRET
drain_timeout: 10
ssh:
  config: %s
`

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

func run(ctx context.Context, keep bool) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	step("building images (host, Traefik, PostgreSQL, Redis, sample app); the first run takes several minutes, later runs reuse them")
	t0 := time.Now()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		return err
	}
	for _, v := range []string{"v1", "v2"} {
		if _, err := harness.BuildSampleApp(ctx, v); err != nil {
			return err
		}
	}
	fmt.Printf("images ready in %s\n", time.Since(t0).Round(time.Second))

	step("installing the plugin (./install.sh)")
	if err := sh(ctx, root, nil, "./install.sh"); err != nil {
		return err
	}

	step("starting 2 Docker-in-Docker hosts")
	fleet, err := harness.NewFleet(ctx, 2)
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
	h1, h2 := fleet.Hosts[0], fleet.Hosts[1]
	fmt.Printf("hosts %s and %s\n", h1.Addr, h2.Addr)

	app, err := os.MkdirTemp("", "kamal-demo-app-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(app)
	files := map[string]string{
		"config/deploy.yml": fmt.Sprintf(deployYML, h1.Addr, h2.Addr, fleet.SSHConfig),
		".kamal/secrets":    "DEMO_SECRET=$(printf %s demo-not-so-secret)\n",
	}
	for name, content := range files {
		p := filepath.Join(app, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			return err
		}
	}
	env := []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik, "DOCKER_KAMAL_SHIP_COMPRESS=0"}
	fmt.Printf("app config: %s\n", filepath.Join(app, "config/deploy.yml"))

	step("docker kamal setup --skip-push --version v1   (sidecar, Traefik, then deploy v1)")
	if err := sh(ctx, app, env, "docker", "kamal", "setup", "--skip-push", "--version", "v1"); err != nil {
		return err
	}

	step("docker kamal deploy --skip-push --version v2   under 100 req/s on each host")
	var gens []*loadgen.Generator
	for _, h := range fleet.Hosts {
		g, err := loadgen.Start(ctx, loadgen.Config{URL: "http://" + h.Addr.String() + "/", Rate: 100,
			Duration: 5 * time.Minute, Count: 30000, Allow: []netip.Prefix{fleet.Subnet}})
		if err != nil {
			return err
		}
		gens = append(gens, g)
	}
	deployErr := sh(ctx, app, env, "docker", "kamal", "deploy", "--skip-push", "--version", "v2")
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
	step("the app is served at")
	for _, h := range fleet.Hosts {
		fmt.Printf("  http://%s/\n", h.Addr)
	}
	if failed > 0 {
		return fmt.Errorf("%d requests failed during the deploy", failed)
	}
	fmt.Println("\nzero failed requests during the deploy.")
	if keep {
		fmt.Println("hosts keep running; press Ctrl-C to remove them")
		<-ctx.Done()
	}
	return nil
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

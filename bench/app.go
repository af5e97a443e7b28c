package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// fleetYML is the 3-host app: web on all three hosts, job and PostgreSQL
// on the third, migrations once per deploy.
const fleetYML = `service: bench
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
      - %[2]s
      - %[3]s
  job:
    hosts:
      - %[3]s
    cmd: sampleapp serve
proxy:
  app_port: 3000
  healthcheck:
    path: /up
env:
  clear:
    PORT: "3000"
    SHUTDOWN_TIMEOUT_MS: "10000"
  secret:
    - DATABASE_URL
accessories:
  db:
    image: %[5]s
    host: %[3]s
    port: "5432"
    env:
      clear:
        POSTGRES_USER: app
        POSTGRES_DB: app_production
      secret:
        - POSTGRES_PASSWORD
migrations:
  cmd: sampleapp migrate
readiness_delay: 1
deploy_timeout: 12
drain_timeout: 10
ssh:
  config: %[4]s
`

const fleetSecrets = `POSTGRES_PASSWORD=bench-pg-%[1]s
DATABASE_URL=postgres://app:${POSTGRES_PASSWORD}@%[2]s:5432/app_production?sslmode=disable
`

// fanoutYML is web on every host of the fan-out fleet.
const fanoutYML = `service: fan
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
deploy_timeout: 30
drain_timeout: 10
ssh:
  config: %[2]s
`

// appDockerfile builds the app from the binary the pre-build hook compiles:
// one new layer over the previous image.
const appDockerfile = `FROM kamal-e2e-app:v1
COPY sampleapp /usr/local/bin/sampleapp
`

// preBuildHook compiles the sample app with the deploy's version, the
// "one-line change" (the version string) a user's code change stands for.
const preBuildHook = `#!/bin/sh
set -e
cd %[1]s
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$KAMAL_VERSION" -o %[2]s/sampleapp .
`

// writeApp writes an app directory (config, secrets, Dockerfile, hook).
func writeApp(dir string, files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.Contains(name, "hooks/") {
			mode = 0o755
		}
		if strings.HasPrefix(name, ".kamal/secrets") {
			mode = 0o600
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

func (e *env) fleetApp(f *harness.Fleet) (string, error) {
	dir := filepath.Join(e.work, "app-"+f.RunID)
	h := f.Hosts
	err := writeApp(dir, map[string]string{
		"config/deploy.yml":      fmt.Sprintf(fleetYML, h[0].Addr, h[1].Addr, h[2].Addr, f.SSHConfig, e.images.postgres),
		".kamal/secrets":         fmt.Sprintf(fleetSecrets, f.RunID, h[2].Addr),
		"Dockerfile":             appDockerfile,
		".kamal/hooks/pre-build": fmt.Sprintf(preBuildHook, filepath.Join(e.opts.Root, "e2e", "sampleapp"), dir),
		".dockerignore":          "config\n.kamal\n",
	})
	return dir, err
}

func (e *env) fanoutApp(f *harness.Fleet) (string, error) {
	dir := filepath.Join(e.work, "fan-"+f.RunID)
	var hosts strings.Builder
	for _, h := range f.Hosts {
		fmt.Fprintf(&hosts, "      - %s\n", h.Addr)
	}
	err := writeApp(dir, map[string]string{
		"config/deploy.yml": fmt.Sprintf(fanoutYML, hosts.String(), f.SSHConfig),
	})
	return dir, err
}

// derivedImage tags kamal-e2e-app:<version> as v1 with extra env: no new
// layer, a new image ID (what a config-only change ships).
func (e *env) derivedImage(ctx context.Context, version string, env ...string) (string, error) {
	ref := harness.SampleAppRepo + ":" + version
	df := "FROM kamal-e2e-app:v1\nLABEL kamal-e2e-image=1 kamal-bench=1\nENV APP_VERSION=" + version
	for _, kv := range env {
		df += " " + kv
	}
	cmd := exec.CommandContext(ctx, "docker", "build", "-q", "-t", ref, "-")
	cmd.Stdin = strings.NewReader(df + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w: %s", ref, err, out)
	}
	e.images.extra = append(e.images.extra, ref)
	return ref, nil
}

package swap

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// containerOf loads deploy.yml text and builds the container request the
// sidecar sends to the engine for role on 1.1.1.1 (pkg/docker's
// TestSpecToAPI shows the request's fields reach the engine's API).
func containerOf(t *testing.T, yml, role string) (got struct {
	Volumes     []string
	LogDriver   string
	LogOpts     map[string]string
	StopTimeout time.Duration
}) {
	t.Helper()
	c, err := spec.LoadBytes(context.Background(), "config/deploy.yml", []byte(yml), spec.LoadOptions{NoSecretsFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy(role, "1.1.1.1", "v1", "app:v1", "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := containerSpec(d, "")
	if err != nil {
		t.Fatal(err)
	}
	got.Volumes, got.LogDriver, got.LogOpts, got.StopTimeout = cs.Volumes, cs.LogDriver, cs.LogOpts, cs.StopTimeout
	return got
}

// TestAppContainerKeysReachDocker: volumes, logging (root and per role) and
// stop_timeout (root, per role, and Kamal 1's stop_wait_time) become the
// app container's binds, log driver/options and stop timeout.
func TestAppContainerKeysReachDocker(t *testing.T) {
	const head = "service: app\nimage: app\n"
	got := containerOf(t, head+"volumes: [/data:/rails/storage, cache:/cache]\n"+
		"logging:\n  driver: json-file\n  options:\n    max-size: 20m\n"+
		"stop_timeout: 45\n"+
		"servers:\n  web: [1.1.1.1]\n  job:\n    hosts: [1.1.1.1]\n    cmd: bin/jobs\n    stop_timeout: 90\n"+
		"    logging:\n      driver: syslog\n      options:\n        tag: jobs\n", "job")
	if want := []string{"/data:/rails/storage", "cache:/cache"}; !slices.Equal(got.Volumes, want) {
		t.Errorf("volumes %q, want %q", got.Volumes, want)
	}
	if got.LogDriver != "syslog" || !reflect.DeepEqual(got.LogOpts, map[string]string{"max-size": "20m", "tag": "jobs"}) {
		t.Errorf("role logging: driver %q options %v, want syslog with max-size=20m (root) and tag=jobs (role)", got.LogDriver, got.LogOpts)
	}
	if got.StopTimeout != 90*time.Second {
		t.Errorf("servers.job.stop_timeout: got %v, want 90s", got.StopTimeout)
	}
	got = containerOf(t, head+"stop_timeout: 45\nlogging:\n  driver: json-file\nservers: [1.1.1.1]\n", "web")
	if got.StopTimeout != 45*time.Second || got.LogDriver != "json-file" {
		t.Errorf("root stop_timeout/logging: got %v %q, want 45s json-file", got.StopTimeout, got.LogDriver)
	}
	got = containerOf(t, head+"stop_wait_time: 12\nservers: [1.1.1.1]\n", "web")
	if got.StopTimeout != 12*time.Second {
		t.Errorf("Kamal 1 stop_wait_time: got %v, want 12s", got.StopTimeout)
	}
	got = containerOf(t, head+"servers: [1.1.1.1]\nproxy:\n  host: a.example.org\n", "web")
	if got.StopTimeout != 10*time.Second || got.Volumes != nil {
		t.Errorf("defaults: got stop %v volumes %q, want Docker's 10s for a proxied role and no volumes", got.StopTimeout, got.Volumes)
	}
}

// TestHealthcheckLogLines: Kamal 1 healthcheck.log_lines is how many of a
// failed new container's last log lines the deploy error carries.
func TestHealthcheckLogLines(t *testing.T) {
	c, err := spec.LoadBytes(context.Background(), "config/deploy.yml",
		[]byte("service: app\nimage: app\nservers: [1.1.1.1]\nhealthcheck:\n  log_lines: 2\n"), spec.LoadOptions{NoSecretsFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := c.Deploy("web", "1.1.1.1", "v2", "app:v2", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lines       int
		shown, gone string
	}{{sd.LogLines, "line-3", "line-1"}, {0, "line-1", "never"}} {
		h := newHarness(t)
		h.withBlue()
		h.docker.logs["app-web-v2"] = "line-1\nline-2\nline-3\n"
		h.prober.fail["app-web-v2"] = errors.New("unhealthy")
		d := testDeploy("v2")
		d.LogLines = tc.lines
		_, err := h.engine.Deploy(context.Background(), d, h.emit)
		if err == nil || !strings.Contains(err.Error(), tc.shown) || strings.Contains(err.Error(), tc.gone) {
			t.Errorf("log_lines %d: error %v, want %s shown and %s not", tc.lines, err, tc.shown, tc.gone)
		}
	}
}

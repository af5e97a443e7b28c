package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
)

// The surface test app: web on two hosts without a proxy (so it needs no
// Traefik), PostgreSQL and Redis accessories on the second host.
const surfaceDeployYML = `service: kamal-surf
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
      - %[2]s
    proxy: false
env:
  clear:
    PORT: "3000"
    SURF_CLEAR: clear-value
  secret:
    - SURF_SECRET
accessories:
  db:
    image: kamal-e2e-postgres:15
    host: %[2]s
    env:
      clear:
        POSTGRES_USER: app
        POSTGRES_DB: app_production
      secret:
        - POSTGRES_PASSWORD
    directories:
      - data:/var/lib/postgresql/data
  redis:
    image: kamal-e2e-redis:7
    host: %[2]s
    cmd: --appendonly yes
    directories:
      - data:/data
    files:
      - config/redis-extra.conf.erb:/usr/local/etc/redis/extra.conf
      - local: config/redis-plain.conf
        remote: /usr/local/etc/redis/plain.conf
        mode: "0640"
        owner: "999:999"
readiness_delay: 1
deploy_timeout: 60
drain_timeout: 5
aliases:
  shell: app exec -i --reuse sh
  greet: app exec --reuse -p "echo hello from alias"
ssh:
  config: %[3]s
`

const (
	surfaceSecret     = "surf-s3cr3t-77aa1c"
	surfacePGPassword = "pg-surf-0b1c2d3e"
)

// surfaceApp is the fleet and app dir every surface subtest drives.
type surfaceApp struct {
	ctx    context.Context
	plugin *pluginInstall
	fleet  *harness.Fleet
	dir    string
	env    []string
	log    *outputLog
}

func (a *surfaceApp) kamal(args ...string) kamalRun {
	return a.plugin.kamal(a.ctx, a.dir, a.env, a.log, args...)
}

// kamalIO runs `docker kamal args...` with the given stdin and stdout and
// returns stderr; stdout is left untouched (byte-exact checks).
// restoreGzip runs the plugin with args, feeding it the gunzipped backup
// on stdin (a restore through `accessory exec db "psql ..."`).
func (a *surfaceApp) restoreGzip(t testing.TB, backup string, args ...string) {
	t.Helper()
	gz, err := os.Open(backup)
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	gunzip := exec.Command("gunzip", "-c")
	gunzip.Stdin = gz
	pipe, err := gunzip.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := gunzip.Start(); err != nil {
		t.Fatal(err)
	}
	if stderr, err := a.kamalIO(t, pipe, io.Discard, args...); err != nil {
		t.Fatalf("restore: %v\n%s", err, stderr)
	}
	if err := gunzip.Wait(); err != nil {
		t.Fatalf("%s is not a valid gzip stream: %v", backup, err)
	}
}

func (a *surfaceApp) kamalIO(t testing.TB, stdin io.Reader, stdout io.Writer, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append([]string{"kamal"}, args...)...)
	cmd.Dir = a.dir
	cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+a.plugin.dockerConfig), a.env...)
	cmd.Stdin, cmd.Stdout = stdin, stdout
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	a.log.add(fmt.Sprintf("$ docker kamal %s\n%s\n", strings.Join(args, " "), errb.String()))
	return errb.String(), err
}

func startSurfaceApp(t *testing.T, ctx context.Context) *surfaceApp {
	t.Helper()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 2)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config", "deploy.yml"), fmt.Sprintf(surfaceDeployYML, f.Hosts[0].Addr, f.Hosts[1].Addr, f.SSHConfig), 0o644)
	writeFile(t, filepath.Join(dir, ".kamal", "secrets"), "SURF_SECRET="+surfaceSecret+"\nPOSTGRES_PASSWORD="+surfacePGPassword+"\n", 0o600)
	// Accessory files: an ERB template reading the process environment and
	// a secret, and a plain file with mode and owner.
	writeFile(t, filepath.Join(dir, "config", "redis-extra.conf.erb"),
		"maxmemory-policy <%= ENV.fetch(\"SURF_REDIS_POLICY\", \"noeviction\") %>\n# <%= ENV[\"SURF_SECRET\"] %>\n", 0o644)
	writeFile(t, filepath.Join(dir, "config", "redis-plain.conf"), "# plain\n", 0o644)
	a := &surfaceApp{ctx: ctx, plugin: plugin, fleet: f, dir: dir, log: &outputLog{},
		env: []string{"DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik, "SURF_REDIS_POLICY=allkeys-lru"}}
	t.Cleanup(func() {
		all := a.log.String()
		for _, secret := range []string{surfaceSecret, surfacePGPassword} {
			if strings.Contains(all, secret) {
				t.Errorf("a secret value appeared in the plugin's output")
			}
		}
		if t.Failed() {
			t.Logf("plugin output:\n%s", all)
		}
	})
	return a
}

// TestSurface drives the app and accessory commands through the docker CLI
// against two real hosts.
func TestSurface(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	a := startSurfaceApp(t, ctx)
	h1, h2 := a.fleet.Hosts[0], a.fleet.Hosts[1]

	r := a.kamal("setup", "--skip-push", "--version", "v1").must(t)
	t.Logf("setup took %v", r.took.Round(time.Millisecond))

	t.Run("app version and containers", func(t *testing.T) {
		out := a.kamal("app", "version").must(t).out
		for _, h := range []*harness.Host{h1, h2} {
			if !strings.Contains(out, h.Addr.String()+" web: v1") {
				t.Errorf("app version lacks %s on v1:\n%s", h.Addr, out)
			}
		}
		var list []hostContainersJSON
		js := a.kamal("app", "containers", "--json").must(t).out
		if err := json.Unmarshal([]byte(jsonPart(js)), &list); err != nil {
			t.Fatalf("app containers --json: %v\n%s", err, js)
		}
		if len(list) != 2 || len(list[0].Containers) == 0 || list[0].Containers[0].Name != "kamal-surf-web-v1" || list[0].Containers[0].State != "running" {
			t.Errorf("app containers --json = %+v", list)
		}
	})

	t.Run("app exec: new container with env and secrets, reuse, exit code", func(t *testing.T) {
		var out bytes.Buffer
		if _, err := a.kamalIO(t, nil, &out, "app", "exec", "-p", `sh -c 'case "$SURF_SECRET" in surf-s3cr3t-*) echo "secret-ok ${#SURF_SECRET} $SURF_CLEAR";; esac'`); err != nil {
			t.Fatalf("app exec: %v\n%s", err, out.String())
		}
		if got, want := out.String(), fmt.Sprintf("secret-ok %d clear-value\n", len(surfaceSecret)); got != want {
			t.Errorf("app exec stdout = %q, want the secret seen inside and the clear value", got)
		}
		// The env file is gone from the host.
		if ls, _ := h1.Exec(ctx, "sh", "-c", "ls /tmp/kamal-env.* 2>/dev/null"); strings.TrimSpace(ls) != "" {
			t.Errorf("env files left on the host: %s", ls)
		}
		out.Reset()
		if _, err := a.kamalIO(t, nil, &out, "app", "exec", "--reuse", "-p", "hostname"); err != nil {
			t.Fatal(err)
		}
		id, err := h1.Docker(ctx, "inspect", "--format", "{{.Config.Hostname}}", "kamal-surf-web-v1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out.String()) != strings.TrimSpace(id) {
			t.Errorf("app exec --reuse ran in %q, want the live container %q", out.String(), id)
		}
		_, err = a.kamalIO(t, nil, io.Discard, "app", "exec", "--reuse", "-p", "sh -c 'exit 7'")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Errorf("app exec of `exit 7` returned %v, want exit status 7", err)
		}
		// stdin is passed to a single-host command.
		out.Reset()
		if _, err := a.kamalIO(t, strings.NewReader("piped-in\n"), &out, "app", "exec", "--reuse", "-p", "cat"); err != nil {
			t.Fatal(err)
		}
		if out.String() != "piped-in\n" {
			t.Errorf("app exec with stdin printed %q", out.String())
		}
	})

	t.Run("app exec -i through a pseudo-terminal", func(t *testing.T) {
		code, screen := a.interactive(t, []string{"app", "exec", "-i", "--reuse", "sh"}, []string{"echo $((6*7))", "exit 3"}, "42")
		if code != 3 {
			t.Errorf("interactive exec exited %d, want 3; screen:\n%s", code, screen)
		}
	})

	t.Run("alias runs as a command", func(t *testing.T) {
		out := a.kamal("greet").must(t).out
		if !strings.Contains(out, "hello from alias") {
			t.Errorf("alias greet printed:\n%s", out)
		}
	})

	t.Run("app logs -f sees a new line", func(t *testing.T) {
		lctx, lcancel := context.WithCancel(ctx)
		defer lcancel()
		cmd := exec.CommandContext(lctx, "docker", "kamal", "app", "logs", "-f", "-T")
		cmd.Dir = a.dir
		cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+a.plugin.dockerConfig), a.env...)
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 10 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until both hosts' existing lines arrived, then log a new one.
		waitUntil(t, 60*time.Second, func() bool {
			s := out.String()
			return strings.Contains(s, h1.Addr.String()+" | ") && strings.Contains(s, h2.Addr.String()+" | ")
		}, func() string { return "logs -f never showed both hosts:\n" + out.String() })
		marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
		if _, err := h2.Docker(ctx, "exec", "kamal-surf-web-v1", "sh", "-c", "echo "+marker+" > /proc/1/fd/1"); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 30*time.Second, func() bool { return strings.Contains(out.String(), h2.Addr.String()+" | "+marker) },
			func() string { return "logs -f never showed the new line:\n" + out.String() })
		lcancel()
		_ = cmd.Wait()
		// Non-follow: grep and lines.
		got := a.kamal("app", "logs", "-g", marker, "-T").must(t).out
		if !strings.Contains(got, h2.Addr.String()+" | "+marker) || strings.Contains(got, "listening") {
			t.Errorf("app logs -g %s:\n%s", marker, got)
		}
	})

	t.Run("app stop and start through the sidecar", func(t *testing.T) {
		a.kamal("app", "stop", "-h", h2.Addr.String()).must(t)
		if st := containerState(t, ctx, h2, "kamal-surf-web-v1"); st != "exited" {
			t.Errorf("after app stop the container is %q", st)
		}
		if st := containerState(t, ctx, h1, "kamal-surf-web-v1"); st != "running" {
			t.Errorf("app stop -h host2 touched host1: %q", st)
		}
		a.kamal("app", "start", "-h", h2.Addr.String()).must(t)
		if st := containerState(t, ctx, h2, "kamal-surf-web-v1"); st != "running" {
			t.Errorf("after app start the container is %q", st)
		}
	})

	t.Run("accessory exec: pg_dump | gzip round trip", func(t *testing.T) {
		a.kamal("accessory", "exec", "db", `psql -U app -d app_production -v ON_ERROR_STOP=1 -c "CREATE TABLE notes (id int, body text); INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1,500) g"`).must(t)
		want := dbChecksum(t, a)
		backup := filepath.Join(t.TempDir(), "backup.sql.gz")
		f, err := os.Create(backup)
		if err != nil {
			t.Fatal(err)
		}
		if stderr, err := a.kamalIO(t, nil, f, "accessory", "exec", "db", "pg_dump -U app app_production | gzip"); err != nil {
			t.Fatalf("backup: %v\n%s", err, stderr)
		}
		f.Close()
		// The file is a valid gzip of the dump, nothing else in it.
		dump, err := exec.Command("sh", "-c", "gunzip -c "+backup).Output()
		if err != nil {
			t.Fatalf("backup.sql.gz is not a valid gzip stream: %v", err)
		}
		if !bytes.Contains(dump, []byte("CREATE TABLE public.notes")) {
			t.Fatalf("dump lacks the table:\n%.500s", dump)
		}
		a.kamal("accessory", "exec", "db", `psql -U app -d app_production -c "DROP TABLE notes"`).must(t)
		a.restoreGzip(t, backup, "accessory", "exec", "db", "psql -U app -d app_production -v ON_ERROR_STOP=1")
		if got := dbChecksum(t, a); got != want {
			t.Errorf("after restore the table is %q, want %q", got, want)
		}
		// Data survives a reboot of the accessory.
		a.kamal("accessory", "reboot", "db").must(t)
		waitUntil(t, 60*time.Second, func() bool {
			var out bytes.Buffer
			_, err := a.kamalIO(t, nil, &out, "accessory", "exec", "db", "pg_isready -U app")
			return err == nil
		}, func() string { return "postgres never came back after reboot" })
		if got := dbChecksum(t, a); got != want {
			t.Errorf("after reboot the table is %q, want %q", got, want)
		}
	})

	t.Run("accessory files: ERB rendered, mode and owner", func(t *testing.T) {
		stat := func(p string) string {
			out, err := h2.Docker(ctx, "exec", "kamal-surf-redis", "stat", "-c", "%a %u:%g", p)
			if err != nil {
				t.Fatalf("stat %s in the redis accessory: %v", p, err)
			}
			return strings.TrimSpace(out)
		}
		if got := stat("/usr/local/etc/redis/plain.conf"); got != "640 999:999" {
			t.Errorf("plain.conf: mode and owner %q, want 640 999:999", got)
		}
		// Rendered files can hold secrets: 0600 unless a mode is given.
		if got := stat("/usr/local/etc/redis/extra.conf"); !strings.HasPrefix(got, "600 ") {
			t.Errorf("extra.conf: mode and owner %q, want 600", got)
		}
		out, err := h2.Docker(ctx, "exec", "kamal-surf-redis", "cat", "/usr/local/etc/redis/extra.conf")
		if err != nil {
			t.Fatal(err)
		}
		// (The harness trims the command's output.)
		if want := "maxmemory-policy allkeys-lru\n# " + surfaceSecret; strings.TrimSpace(out) != want {
			t.Errorf("extra.conf rendered as %q, want the environment's policy and the secret", out)
		}
	})

	t.Run("redis data survives accessory reboot", func(t *testing.T) {
		a.kamal("accessory", "exec", "redis", "redis-cli SET surf-key kept-value").must(t)
		a.kamal("accessory", "reboot", "redis").must(t)
		var got string
		waitUntil(t, 30*time.Second, func() bool {
			var out bytes.Buffer
			_, err := a.kamalIO(t, nil, &out, "accessory", "exec", "redis", "redis-cli GET surf-key")
			got = strings.TrimSpace(out.String())
			return err == nil && got != "" && !strings.Contains(got, "LOADING")
		}, func() string { return "redis never answered after reboot: " + got })
		if got != "kept-value" {
			t.Errorf("after reboot GET surf-key = %q", got)
		}
	})

	t.Run("accessory details, stop, start, logs", func(t *testing.T) {
		var states []struct{ Accessory, Host, State string }
		js := a.kamal("accessory", "details", "all", "--json").must(t).out
		if err := json.Unmarshal([]byte(jsonPart(js)), &states); err != nil {
			t.Fatalf("%v\n%s", err, js)
		}
		if len(states) != 2 || states[0].State != "running" || states[1].State != "running" {
			t.Errorf("accessory details = %+v", states)
		}
		a.kamal("accessory", "stop", "redis").must(t)
		if st := containerState(t, ctx, h2, "kamal-surf-redis"); st != "exited" {
			t.Errorf("after accessory stop redis is %q", st)
		}
		a.kamal("accessory", "start", "redis").must(t)
		if st := containerState(t, ctx, h2, "kamal-surf-redis"); st != "running" {
			t.Errorf("after accessory start redis is %q", st)
		}
		out := a.kamal("accessory", "logs", "db", "-n", "3").must(t).out
		if !strings.Contains(out, h2.Addr.String()+" db | ") {
			t.Errorf("accessory logs db lacks host-prefixed lines:\n%s", out)
		}
	})

	t.Run("accessory remove -y removes container and data", func(t *testing.T) {
		a.kamal("accessory", "remove", "redis", "-y").must(t)
		if st := containerState(t, ctx, h2, "kamal-surf-redis"); st != "" {
			t.Errorf("after remove redis is %q", st)
		}
		if out, _ := h2.Exec(ctx, "sh", "-c", "ls -d /root/kamal-surf-redis 2>/dev/null"); strings.TrimSpace(out) != "" {
			t.Errorf("redis data directory left: %s", out)
		}
	})
}

// The proxied surface app: one web host behind Traefik.
const surfaceProxyYML = `service: kamal-surfp
image: kamal-e2e-app
servers:
  web:
    hosts:
      - %[1]s
proxy:
  app_port: 3000
  response_timeout: 2
  healthcheck:
    path: /up
error_pages_path: public
readiness_delay: 1
deploy_timeout: 60
drain_timeout: 5
# No warm container: the prune subtest counts stopped ones (TestWarmRollback
# covers keep_warm).
sidecar:
  keep_warm: 0
ssh:
  config: %[2]s
`

// TestSurfaceFleet covers the fleet-wide commands on a second, proxied
// app (and the first test's leftovers are not needed): audit, details,
// prune across destinations, server, secrets, proxy and remove.
func TestSurfaceFleet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if _, err := harness.BuildSampleApp(ctx, "v2"); err != nil {
		t.Fatal(err)
	}
	a := startSurfaceApp(t, ctx)
	h1 := a.fleet.Hosts[0]
	writeFile(t, filepath.Join(a.dir, "config", "proxy.yml"), fmt.Sprintf(surfaceProxyYML, h1.Addr, a.fleet.SSHConfig), 0o644)
	for st, page := range surfaceErrorPages {
		writeFile(t, filepath.Join(a.dir, "public", st+".html"), page, 0o644)
	}
	p := func(args ...string) kamalRun { return a.kamal(append([]string{"-c", "config/proxy.yml"}, args...)...) }
	p("setup", "--skip-push", "--version", "v1").must(t)
	waitVersion(t, ctx, a.fleet, "http://"+h1.Addr.String()+"/", "v1")
	p("deploy", "--skip-push", "--version", "v2").must(t)

	t.Run("audit merges the hosts' logs", func(t *testing.T) {
		out := p("audit").must(t).out
		if !strings.Contains(out, "["+h1.Addr.String()+"]") || !strings.Contains(out, "deploy") || !strings.Contains(out, "v2") {
			t.Errorf("audit:\n%s", out)
		}
	})

	t.Run("details --json", func(t *testing.T) {
		var d struct {
			App   []struct{ Host, Role, Version, Health string }
			Proxy []struct{ Host, State string }
		}
		js := p("details", "--json").must(t).out
		if err := json.Unmarshal([]byte(jsonPart(js)), &d); err != nil {
			t.Fatalf("%v\n%s", err, js)
		}
		if len(d.App) != 1 || d.App[0].Version != "v2" || d.App[0].Health != "healthy" || len(d.Proxy) != 1 || d.Proxy[0].State != "running" {
			t.Errorf("details = %+v", d)
		}
	})

	t.Run("prune containers keeps another destination's", func(t *testing.T) {
		// A retained container of destination staging, as the sidecar labels them.
		if _, err := h1.Docker(ctx, "create", "--name", "kamal-surfp-web-staging-v0", "--label", "kamal.service=kamal-surfp",
			"--label", "kamal.role=web", "--label", "kamal.destination=staging", "--label", "kamal.version=v0", "kamal-e2e-app:v1"); err != nil {
			t.Fatal(err)
		}
		p("prune", "containers", "--retain", "0").must(t)
		for name, want := range map[string]string{"kamal-surfp-web-staging-v0": "created", "kamal-surfp-web-v1": "", "kamal-surfp-web-v2": "running"} {
			if got := containerState(t, ctx, h1, name); got != want {
				t.Errorf("after prune %s is %q, want %q", name, got, want)
			}
		}
		p("prune", "images").must(t)
		if ok, _ := h1.HasImage(ctx, "kamal-e2e-app:v2"); !ok {
			t.Error("prune images removed the live image")
		}
		if ok, _ := h1.HasImage(ctx, "kamal-e2e-app:v1"); !ok {
			t.Error("prune images removed the image the staging container uses")
		}
	})

	t.Run("server exec and bootstrap", func(t *testing.T) {
		var out bytes.Buffer
		if _, err := a.kamalIO(t, nil, &out, "server", "exec", "cat /etc/hostname"); err != nil {
			t.Fatal(err)
		}
		for _, h := range a.fleet.Hosts {
			name, _ := h.Exec(ctx, "cat", "/etc/hostname")
			if !strings.Contains(out.String(), strings.TrimSpace(name)) {
				t.Errorf("server exec output lacks %s: %q", h.Name, out.String())
			}
		}
		r := a.kamal("server", "bootstrap").must(t)
		if strings.Count(r.out, "docker present") != 2 {
			t.Errorf("bootstrap on hosts with docker:\n%s", r.out)
		}
	})

	t.Run("secrets", func(t *testing.T) {
		out := a.kamal("secrets", "print").must(t).out
		if !strings.Contains(out, "SURF_SECRET=[REDACTED]") || strings.Contains(out, surfaceSecret) {
			t.Errorf("secrets print:\n%s", out)
		}
		js := a.kamal("secrets", "fetch", "--adapter", "command", "--from", "printf %s-x", "A", "B").must(t).out
		if strings.TrimSpace(js) != `{"A":"A-x","B":"B-x"}` {
			t.Errorf("secrets fetch = %s", js)
		}
		if got := a.kamal("secrets", "extract", "B", strings.TrimSpace(js)).must(t).out; strings.TrimSpace(got) != "B-x" {
			t.Errorf("secrets extract = %q", got)
		}
	})

	t.Run("proxy reboot, stop, start", func(t *testing.T) {
		r := p("proxy", "reboot", "--rolling", "-y").must(t)
		if !strings.Contains(r.out, "cannot be zero-downtime") {
			t.Errorf("proxy reboot --rolling on one host does not say it cannot be zero-downtime:\n%s", r.out)
		}
		waitVersion(t, ctx, a.fleet, "http://"+h1.Addr.String()+"/", "v2")
		p("proxy", "stop").must(t)
		if st := containerState(t, ctx, h1, "kamal-traefik"); st != "exited" {
			t.Errorf("after proxy stop traefik is %q", st)
		}
		p("proxy", "start").must(t)
		waitVersion(t, ctx, a.fleet, "http://"+h1.Addr.String()+"/", "v2")
	})

	t.Run("error pages", func(t *testing.T) { surfaceErrorPagesTest(t, ctx, a, p) })

	t.Run("remove -y", func(t *testing.T) {
		p("remove", "-y").must(t)
		for _, name := range []string{"kamal-surfp-web-v2", "kamal-traefik"} {
			if st := containerState(t, ctx, h1, name); st != "" {
				t.Errorf("after remove %s is %q", name, st)
			}
		}
		if st := containerState(t, ctx, h1, "kamal-surfp-web-staging-v0"); st == "" {
			t.Error("remove took another destination's container")
		}
	})
}

// surfaceErrorPages are the proxied surface app's error_pages_path pages.
var surfaceErrorPages = map[string]string{
	"502": "<h1>surf 502: the app is not answering</h1>\n",
	"503": "<h1>surf 503</h1><p>{{.Message}}</p>\n",
	"504": "<h1>surf 504: the app is too slow</h1>\n",
}

// surfaceErrorPagesTest: the app's own pages answer when the app cannot:
// 504 for an answer slower than response_timeout, 503 in maintenance
// (with its message). (A 502 needs a refused connection, which a stopped
// container on a bridge does not give, its address just goes silent:
// pkg/traefik TestProxyErrorPages shows the 502 page against Traefik.)
func surfaceErrorPagesTest(t *testing.T, ctx context.Context, a *surfaceApp, p func(...string) kamalRun) {
	h1 := a.fleet.Hosts[0]
	url := "http://" + h1.Addr.String() + "/"
	if status, body := httpGet(t, ctx, url+"sleep?ms=3000"); status != http.StatusGatewayTimeout || body != surfaceErrorPages["504"] {
		t.Errorf("slow answer: %d %q, want 504 with the app's 504 page", status, body)
	}
	if status, body := httpGet(t, ctx, url+"version"); status != http.StatusOK || !strings.Contains(body, "v2") {
		t.Errorf("the app's own answer: %d %q", status, body)
	}
	p("app", "maintenance", "--message", "Back at noon").must(t)
	if status, body := httpGet(t, ctx, url); status != http.StatusServiceUnavailable || body != "<h1>surf 503</h1><p>Back at noon</p>\n" {
		t.Errorf("maintenance: %d %q, want 503 with the app's 503 page and the message", status, body)
	}
	p("app", "live").must(t)
	waitVersion(t, ctx, a.fleet, url, "v2")
}

// hostContainersJSON mirrors `app containers --json`.
type hostContainersJSON struct {
	Host       string
	Containers []struct{ Name, Role, Version, State string }
}

// jsonPart drops anything printed before the JSON document.
func jsonPart(s string) string {
	if i := strings.IndexAny(s, "[{"); i >= 0 {
		return s[i:]
	}
	return s
}

func containerState(t testing.TB, ctx context.Context, h *harness.Host, name string) string {
	t.Helper()
	out, err := h.Docker(ctx, "ps", "-a", "--filter", "name=^"+name+"$", "--format", "{{.State}}")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func dbChecksum(t testing.TB, a *surfaceApp) string {
	t.Helper()
	var out bytes.Buffer
	if stderr, err := a.kamalIO(t, nil, &out, "accessory", "exec", "db", `psql -U app -d app_production -At -c "SELECT count(*), md5(string_agg(body, ',' ORDER BY id)) FROM notes"`); err != nil {
		t.Fatalf("checksum: %v\n%s", err, stderr)
	}
	return strings.TrimSpace(out.String())
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// interactive runs `docker kamal args...` on a pseudo-terminal, types each
// line once the previous output settled (the first after a prompt),
// waits for want on the screen, and returns the exit code and screen.
func (a *surfaceApp) interactive(t *testing.T, args, lines []string, want string) (int, string) {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	ctx, cancel := context.WithTimeout(a.ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append([]string{"kamal"}, args...)...)
	cmd.Dir = a.dir
	cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+a.plugin.dockerConfig, "TERM=xterm"), a.env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	screen := &syncBuffer{}
	go func() { _, _ = io.Copy(screen, master) }()
	// The shell prompts with "# " (root) once it runs.
	waitUntil(t, 60*time.Second, func() bool { return strings.Contains(screen.String(), "# ") },
		func() string { return "no shell prompt:\n" + screen.String() })
	if _, err := io.WriteString(master, lines[0]+"\r"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, func() bool { return strings.Contains(screen.String(), want) },
		func() string { return "never saw " + want + ":\n" + screen.String() })
	for _, l := range lines[1:] {
		if _, err := io.WriteString(master, l+"\r"); err != nil {
			t.Fatal(err)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, screen.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), screen.String()
	}
	t.Fatalf("interactive command: %v\n%s", err, screen.String())
	return -1, ""
}

// openPTY opens a pseudo-terminal pair.
func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/e2e/harness"
	"github.com/dockerkamal/docker-kamal/e2e/loadgen"
)

// Secrets of the Rails tests. None may appear in any output.
const (
	railsDBPassword       = "rails-pg-5d41c7e2b9"
	railsRegistryPassword = "rails-reg-8a3f60d1c4"
)

// railsService is service: in both of the example's deploy configs.
const railsService = "rails_demo"

// railsFleet is three hosts running examples/rails: web on the first two,
// the job role, PostgreSQL and Redis on the third, driven through one of
// the example's deploy configs.
type railsFleet struct {
	ctx    context.Context
	plugin *pluginInstall
	f      *harness.Fleet
	app    *harness.RailsApp
	env    []string
	log    *outputLog
	// config is the -c argument ("" for config/deploy.yml).
	config string
	// host is the Host header the proxy routes on ("" for any).
	host string

	web1, web2, job *harness.Host
}

// startRailsFleet starts the hosts and copies the example app for them.
// With a registry, the Rails 8 config's registry.server is the harness's.
func startRailsFleet(t *testing.T, ctx context.Context, config, host string, withRegistry bool) *railsFleet {
	t.Helper()
	imgs, err := harness.BuildAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plugin := installPlugin(t)
	f := harness.StartHosts(t, 3)
	registry := ""
	if withRegistry {
		registry = harness.StartRegistry(t, f, "rails-demo", railsRegistryPassword).Server
	}
	app, err := harness.NewRailsApp(ctx, t.TempDir(), f, registry)
	if err != nil {
		t.Fatal(err)
	}
	r := &railsFleet{ctx: ctx, plugin: plugin, f: f, app: app, log: &outputLog{}, config: config, host: host,
		web1: f.Hosts[0], web2: f.Hosts[1], job: f.Hosts[2],
		env: []string{"HOME=" + app.Home, "DOCKER_KAMAL_TRAEFIK_IMAGE=" + imgs.Traefik, "DOCKER_KAMAL_SHIP_COMPRESS=0",
			"RAILS_DEMO_DATABASE_PASSWORD=" + railsDBPassword, "KAMAL_REGISTRY_PASSWORD=" + railsRegistryPassword}}
	masterKey, err := app.MasterKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		all := r.log.String()
		for _, secret := range []string{railsDBPassword, railsRegistryPassword, masterKey} {
			if strings.Contains(all, secret) {
				t.Errorf("a secret value appeared in the plugin's output")
			}
		}
		if t.Failed() {
			t.Logf("plugin output:\n%s", all)
		}
	})
	return r
}

// kamal runs `docker kamal args... [-c config]` in the app.
func (r *railsFleet) kamal(args ...string) kamalRun {
	return r.plugin.kamal(r.ctx, r.app.Dir, r.env, r.log, r.withConfig(args)...)
}

func (r *railsFleet) withConfig(args []string) []string {
	if r.config == "" {
		return args
	}
	return append(append([]string{}, args...), "-c", r.config)
}

// surface is the app as the surface test's helpers (kamalIO) drive it.
func (r *railsFleet) surface() *surfaceApp {
	return &surfaceApp{ctx: r.ctx, plugin: r.plugin, fleet: r.f, dir: r.app.Dir, env: r.env, log: r.log}
}

// setVersion changes the app as a developer would between deploys: VERSION
// (the X-App-Version header and the assets' content) and extra files.
func (r *railsFleet) setVersion(t *testing.T, version string, files map[string]string) {
	t.Helper()
	if err := r.app.SetVersion(version); err != nil {
		t.Fatal(err)
	}
	for rel, content := range files {
		if err := r.app.WriteFile(rel, content); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *railsFleet) webHosts() []*harness.Host { return []*harness.Host{r.web1, r.web2} }

func (r *railsFleet) url(h *harness.Host, path string) string {
	return "http://" + h.Addr.String() + path
}

// railsLoad is constant load on "/" through both web hosts' Traefik.
type railsLoad struct {
	r    *railsFleet
	gens []*loadgen.Generator
}

func (r *railsFleet) startLoad(t *testing.T) *railsLoad {
	t.Helper()
	l := &railsLoad{r: r}
	for _, h := range r.webHosts() {
		g, err := loadgen.Start(r.ctx, loadgen.Config{
			// 20 req/s per host: three puma threads per host on a
			// shared 2-core machine, while the next version boots.
			URL: r.url(h, "/"), Host: r.host, Rate: 20, Duration: 8 * time.Minute, Count: 10000,
			Allow: []netip.Prefix{r.f.Subnet},
		})
		if err != nil {
			t.Fatal(err)
		}
		l.gens = append(l.gens, g)
	}
	return l
}

// served counts the 2xx responses so far from version.
func (l *railsLoad) served(version string) int {
	n := 0
	for _, g := range l.gens {
		n += g.Served(version)
	}
	return n
}

// stop ends the load and fails the test on any non-2xx or transport error,
// showing when the first failures happened and the proxy's last log lines;
// it returns the version each host served last.
func (l *railsLoad) stop(t *testing.T, what string) []string {
	t.Helper()
	var last []string
	for i, g := range l.gens {
		rep := g.Stop()
		s := rep.Summary
		t.Logf("%s: load on %s: %d requests, %d ok, %d non-2xx, %d errors, p99 %v", what, s.URL, s.Total, s.OK, s.Non2xx, s.Errors, s.P99)
		if s.Total == 0 || s.Non2xx != 0 || s.Errors != 0 {
			var first []string
			for _, f := range rep.Failures() {
				if len(first) == 10 {
					break
				}
				first = append(first, fmt.Sprintf("+%v status %d %s %s", f.Start.Sub(s.Start).Round(time.Millisecond), f.Status, f.Version, f.Err))
			}
			h := l.r.webHosts()[i]
			t.Errorf("%s: load on %s: want every request 2xx:\n%s\nfirst failures (since %s):\n%s\n%s",
				what, s.URL, s, s.Start.UTC().Format(time.RFC3339Nano), strings.Join(first, "\n"), l.r.diagnose(h))
		}
		for j := len(rep.Results) - 1; j >= 0; j-- {
			if rep.Results[j].OK() {
				last = append(last, rep.Results[j].Version)
				break
			}
		}
	}
	return last
}

// diagnose shows what a failed request may have met on h: its containers,
// their last log lines (timestamped), the sidecar's and the proxy's.
func (r *railsFleet) diagnose(h *harness.Host) string {
	script := `docker ps -a --format '{{.Names}} {{.Status}}'; ` +
		`for c in $(docker ps -a --format '{{.Names}}'); do echo "--- $c"; docker logs --timestamps --tail 25 "$c" 2>&1 | cut -c1-300; done`
	out, err := h.Exec(r.ctx, "sh", "-c", script)
	if err != nil {
		out += err.Error()
	}
	return h.Name + ":\n" + out
}

// get does one bounded request through Traefik with the app's Host header.
func (r *railsFleet) get(t testing.TB, method, url string) (int, http.Header, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.host != "" {
		req.Host = r.host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, string(body)
}

// waitVersion polls "/" on every web host until it answers 200 from version.
func (r *railsFleet) waitVersion(t *testing.T, version string) {
	t.Helper()
	for _, h := range r.webHosts() {
		var last string
		waitUntil(t, 90*time.Second, func() bool {
			status, hdr, body := r.get(t, http.MethodGet, r.url(h, "/"))
			last = fmt.Sprintf("status %d version %q: %.200s", status, hdr.Get("X-App-Version"), body)
			return status == http.StatusOK && hdr.Get("X-App-Version") == version
		}, func() string { return fmt.Sprintf("%s never served %s; last: %s", h.Name, version, last) })
	}
}

var assetRE = regexp.MustCompile(`/assets/application-[0-9a-f]{16}\.(?:css|js)`)

// assets returns the fingerprinted asset paths the root page of h links.
func (r *railsFleet) assets(t *testing.T, h *harness.Host, version string) []string {
	t.Helper()
	status, hdr, body := r.get(t, http.MethodGet, r.url(h, "/"))
	if status != http.StatusOK || hdr.Get("X-App-Version") != version {
		t.Fatalf("%s /: %d from %q, want 200 from %s", h.Name, status, hdr.Get("X-App-Version"), version)
	}
	paths := assetRE.FindAllString(body, -1)
	if len(paths) != 2 {
		t.Fatalf("%s / of %s links %v; want one stylesheet and one script", h.Name, version, paths)
	}
	return paths
}

// checkAssets asserts every path answers 200 on every web host, with the
// content of its version: asset bridging gives each version's container
// both versions' fingerprinted files.
func (r *railsFleet) checkAssets(t *testing.T, byVersion map[string][]string) {
	t.Helper()
	for _, h := range r.webHosts() {
		for version, paths := range byVersion {
			for _, p := range paths {
				status, _, body := r.get(t, http.MethodGet, r.url(h, p))
				if status != http.StatusOK || !strings.Contains(body, `"`+version+`"`) {
					t.Errorf("asset: %s %s (%s) answered %d %.80q; want 200 with the %s content", h.Name, p, version, status, body, version)
				}
			}
		}
	}
}

// appContainers lists the names of the example's containers of role on h,
// stopped ones too.
func (r *railsFleet) appContainers(t *testing.T, h *harness.Host, role string) []string {
	t.Helper()
	out, err := h.Docker(r.ctx, "ps", "-a", "--filter", "label=kamal.service="+railsService,
		"--filter", "label=kamal.role="+role, "--format", "{{.Names}}")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(out)
}

// logsOf returns every log line of the app's containers of role on hosts.
func (r *railsFleet) logsOf(t *testing.T, role string, hosts ...*harness.Host) map[string]string {
	t.Helper()
	logs := map[string]string{}
	for _, h := range hosts {
		for _, c := range r.appContainers(t, h, role) {
			logs[h.Name+"/"+c] = r.containerLogs(t, h, c, false)
		}
	}
	return logs
}

// containerLogs is the container's stdout and stderr, merged.
func (r *railsFleet) containerLogs(t *testing.T, h *harness.Host, name string, timestamps bool) string {
	t.Helper()
	flag := ""
	if timestamps {
		flag = "--timestamps "
	}
	out, err := h.Exec(r.ctx, "sh", "-c", "docker logs "+flag+name+" 2>&1")
	if err != nil {
		t.Fatalf("logs of %s on %s: %v", name, h.Name, err)
	}
	return out
}

// bootTimes logs how long each running web container took from start to
// puma listening (db:prepare included), and returns them by host.
func (r *railsFleet) bootTimes(t *testing.T, version string) map[string]time.Duration {
	t.Helper()
	times := map[string]time.Duration{}
	for _, h := range r.webHosts() {
		name := railsService + "-web-" + version
		started, err := h.Docker(r.ctx, "inspect", "--format", "{{.State.StartedAt}}", name)
		if err != nil {
			t.Errorf("inspect %s on %s: %v", name, h.Name, err)
			continue
		}
		t0, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(started))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(r.containerLogs(t, h, name, true), "\n") {
			ts, rest, ok := strings.Cut(line, " ")
			if !ok || !strings.Contains(rest, "Listening on") {
				continue
			}
			if t1, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				times[h.Name] = t1.Sub(t0)
			}
			break
		}
		t.Logf("Rails %s boot on %s (container start to puma listening): %v", version, h.Name, times[h.Name].Round(10*time.Millisecond))
	}
	return times
}

// enqueueJob posts /jobs through web1's Traefik and waits until the job
// role has run it; it returns the job's record.
func (r *railsFleet) enqueueJob(t *testing.T) map[string]string {
	t.Helper()
	status, _, body := r.get(t, http.MethodPost, r.url(r.web1, "/jobs"))
	if status != http.StatusAccepted {
		t.Fatalf("POST /jobs: %d %.300s", status, body)
	}
	var enq struct{ Token, URL string }
	if err := json.Unmarshal([]byte(body), &enq); err != nil || enq.Token == "" {
		t.Fatalf("POST /jobs answered %q: %v", body, err)
	}
	var run map[string]string
	waitUntil(t, 60*time.Second, func() bool {
		status, _, body = r.get(t, http.MethodGet, r.url(r.web2, enq.URL))
		return status == http.StatusOK && json.Unmarshal([]byte(body), &run) == nil
	}, func() string { return fmt.Sprintf("job %s never ran; last GET: %d %.300s", enq.Token, status, body) })
	return run
}

// jobHostname is the hostname of the running job container on the job host.
func (r *railsFleet) jobHostname(t *testing.T, version string) string {
	t.Helper()
	out, err := r.job.Docker(r.ctx, "inspect", "--format", "{{.Config.Hostname}}", railsService+"-job-"+version)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// psql runs SQL in the db accessory (through `accessory exec`) and returns
// its unaligned output.
func (r *railsFleet) psql(t *testing.T, db, sql string) string {
	t.Helper()
	var out bytes.Buffer
	stderr, err := r.surface().kamalIO(t, nil, &out, r.withConfig([]string{"accessory", "exec", "db",
		fmt.Sprintf(`psql -U %s -d %s -v ON_ERROR_STOP=1 -At -c "%s"`, railsService, db, sql)})...)
	if err != nil {
		t.Fatalf("psql %q on %s: %v\n%s", sql, db, err, stderr)
	}
	return strings.TrimSpace(out.String())
}

// dataChecksum sums what the app stored: notes, job runs and recorded
// migrations.
func (r *railsFleet) dataChecksum(t *testing.T, db string) string {
	t.Helper()
	return r.psql(t, db, "SELECT (SELECT count(*) || ':' || md5(coalesce(string_agg(id || body, ',' ORDER BY id), '')) FROM notes) "+
		"|| '/' || (SELECT count(*) || ':' || md5(coalesce(string_agg(token || worker_version, ',' ORDER BY id), '')) FROM job_runs) "+
		"|| '/' || (SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations)")
}

// console runs the console alias on a pseudo-terminal, waits for irb's
// prompt, evaluates expr, waits for want and exits; it returns the exit
// code and the screen.
func (r *railsFleet) console(t *testing.T, expr, want string) (int, string) {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	ctx, cancel := context.WithTimeout(r.ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append([]string{"kamal"}, r.withConfig([]string{"console"})...)...)
	cmd.Dir = r.app.Dir
	cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+r.plugin.dockerConfig, "TERM=xterm"), r.env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	screen := &syncBuffer{}
	go answerTerminal(master, screen)
	// Rails 7.2's console prompt names the app and the environment (in
	// colour: the escape sequences go before matching).
	plain := func() string { return ansiRE.ReplaceAllString(screen.String(), "") }
	waitUntil(t, 90*time.Second, func() bool { return strings.Contains(plain(), "(prod)>") },
		func() string { return "no console prompt:\n" + plain() })
	if _, err := io.WriteString(master, expr+"\r"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, func() bool { return strings.Contains(plain(), want) },
		func() string { return "never saw " + want + ":\n" + plain() })
	if _, err := io.WriteString(master, "exit\r"); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	r.log.add("$ docker kamal console\n" + screen.String() + "\n")
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, screen.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), screen.String()
	}
	t.Fatalf("console: %v\n%s", err, screen.String())
	return -1, ""
}

// ansiRE matches the terminal control sequences irb prints.
var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// answerTerminal copies what the program on the pty prints to screen and,
// as a terminal does, answers its cursor position queries (ESC [ 6 n): irb's
// line editor (reline) waits for the answer before its first prompt.
func answerTerminal(master *os.File, screen *syncBuffer) {
	buf := make([]byte, 4096)
	var tail []byte // a query may straddle two reads
	for {
		n, err := master.Read(buf)
		if n > 0 {
			_, _ = screen.Write(buf[:n])
			seen := append(tail, buf[:n]...)
			for i := 0; i < bytes.Count(seen, []byte("\x1b[6n")); i++ {
				if _, werr := master.Write([]byte("\x1b[1;1R")); werr != nil {
					return
				}
			}
			tail = append([]byte(nil), seen[max(0, len(seen)-3):]...)
		}
		if err != nil {
			return
		}
	}
}

// backupRestore dumps the production database through `accessory exec db
// "pg_dump | gzip"` into a local file, restores it into a fresh database
// and returns that database's name.
func (r *railsFleet) backupRestore(t *testing.T) string {
	t.Helper()
	a := r.surface()
	backup := filepath.Join(t.TempDir(), "backup.sql.gz")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	dump := fmt.Sprintf("pg_dump -U %s %s_production | gzip", railsService, railsService)
	stderr, err := a.kamalIO(t, nil, f, r.withConfig([]string{"accessory", "exec", "db", dump})...)
	f.Close()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr)
	}
	fresh := "restore_check"
	r.psql(t, "postgres", "DROP DATABASE IF EXISTS "+fresh)
	r.psql(t, "postgres", "CREATE DATABASE "+fresh)
	restore := fmt.Sprintf("psql -U %s -d %s -v ON_ERROR_STOP=1 -q", railsService, fresh)
	a.restoreGzip(t, backup, r.withConfig([]string{"accessory", "exec", "db", restore})...)
	return fresh
}

// migrationRuns counts "== <version> <Name>: migrating" lines by version.
func migrationRuns(logs map[string]string) map[string]int {
	re := regexp.MustCompile(`== (\d{14}) \w+: migrating`)
	n := map[string]int{}
	for _, l := range logs {
		for _, m := range re.FindAllStringSubmatch(l, -1) {
			n[m[1]]++
		}
	}
	return n
}

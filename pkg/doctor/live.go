package doctor

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Live checks ask every host, over SSH, what offline checks cannot know.

// Tunables of the live checks.
const (
	liveCommandTimeout = 15 * time.Second
	liveParallel       = 8
	// Clock skew beyond the measurement's own uncertainty.
	maxSkewWarn  = 2 * time.Second
	maxSkewError = 60 * time.Second
	// Room on the disk that holds Docker's data.
	minFreeWarn    = 5_000_000_000
	minFreeError   = 1_000_000_000
	maxUsedPercent = 90
	// Oldest Docker engine the sidecar is tested with.
	minDockerMajor, minDockerMinor = 20, 10
)

// Remote runs a shell command on a host and returns its standard output.
type Remote interface {
	Output(ctx context.Context, host, cmd string) ([]byte, error)
}

// Live runs the live checks on every host of the config and returns their
// findings; now is the local clock (time.Now outside tests).
func Live(ctx context.Context, p *Project, r Remote, now func() time.Time) []Finding {
	c := p.Config
	if c == nil {
		return nil
	}
	hosts := c.AllHosts()
	results := make([][]Finding, len(hosts))
	versions := make([]string, len(hosts))
	sem := make(chan struct{}, liveParallel)
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			results[i], versions[i] = liveHost(ctx, p, r, h, now)
		}()
	}
	wg.Wait()
	var out []Finding
	for _, fs := range results {
		out = append(out, fs...)
	}
	seen := map[string]bool{}
	var distinct []string
	for _, v := range versions {
		if v != "" && !seen[v] {
			seen[v] = true
			distinct = append(distinct, v)
		}
	}
	if len(distinct) > 1 {
		sort.Strings(distinct)
		out = append(out, Finding{
			Severity: Info, Check: "live-docker",
			Message: "hosts run different Docker versions (" + strings.Join(distinct, ", ") + ")",
			Fix:     "upgrade the hosts to one Docker version so a deploy behaves the same everywhere",
		})
	}
	return out
}

func hostFile(h string) string { return "ssh://" + h }

// liveHost checks one host; it returns the findings and the Docker version.
func liveHost(ctx context.Context, p *Project, r Remote, host string, now func() time.Time) ([]Finding, string) {
	run := func(cmd string) (string, error) {
		cctx, cancel := context.WithTimeout(ctx, liveCommandTimeout)
		defer cancel()
		b, err := r.Output(cctx, host, cmd)
		return strings.TrimSpace(string(b)), err
	}
	f := func(sev Severity, id, msg, fix string) Finding {
		return Finding{Severity: sev, Check: id, File: hostFile(host), Message: msg, Fix: fix}
	}
	var out []Finding

	// Clock first: it is the cheapest command and proves the connection.
	t0 := now()
	stamp, err := run("date +%s.%N")
	t1 := now()
	if err != nil {
		return []Finding{f(Error, "live-ssh", "cannot run commands over SSH: "+err.Error(),
			"check that the host is up, ssh.user can log in with your key, and the host key is in known_hosts")}, ""
	}
	if fd := clockFinding(stamp, t0, t1); fd != nil {
		fd.File = hostFile(host)
		out = append(out, *fd)
	}

	version, err := run("docker version --format '{{.Server.Version}}'")
	switch {
	case err != nil || version == "":
		out = append(out, f(Error, "live-docker", "Docker does not answer on the host", "install Docker (docker kamal server bootstrap) and let ssh.user use it (docker group or root)"))
		version = ""
	case !dockerRecentEnough(version):
		out = append(out, f(Warn, "live-docker", fmt.Sprintf("Docker %s is older than %d.%d", version, minDockerMajor, minDockerMinor), "upgrade Docker on the host"))
	}

	if version != "" {
		df, err := run(`df -Pk "$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)"`)
		if err != nil {
			out = append(out, f(Warn, "live-disk", "cannot read the free space of Docker's disk: "+err.Error(), "check df and docker info on the host"))
		} else if fd := diskFinding(df); fd != nil {
			fd.File = hostFile(host)
			out = append(out, *fd)
		}
	}

	for _, role := range p.proxiedRoles() {
		if !contains(role.Hosts, host) {
			continue
		}
		path := healthPath(role)
		name := ""
		if len(role.Proxy.Hosts) > 0 {
			name = role.Proxy.Hosts[0]
		}
		code, err := run(healthCommand(name, path, role.Proxy.SSL, proxyPorts(role.Proxy)))
		switch {
		case err != nil:
			out = append(out, f(Warn, "live-health", fmt.Sprintf("could not ask %s through the proxy: %v", path, err), "check the proxy on the host (docker kamal proxy details)"))
		case code == "nocurl":
			out = append(out, f(Info, "live-health", "curl is not installed on the host; the health endpoint was not checked", "install curl on the host"))
		case !strings.HasPrefix(code, "2"):
			out = append(out, f(Error, "live-health", fmt.Sprintf("GET %s through the proxy answered %s, not 2xx (role %s)", path, code, role.Name),
				"check docker kamal app logs and docker kamal proxy details: the app must answer 2xx on its health path through the proxy"))
		}
	}
	out = append(out, liveTLS(p, run, host, now())...)
	return out, version
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// healthCommand asks the proxy on the host itself for the health path and
// prints the HTTP status ("000" when nothing answers, "nocurl" without curl).
func healthCommand(hostName, path string, ssl bool, ports [2]int) string {
	var url, extra string
	// A URL names its port only when it is not the scheme's default.
	http, https := "", ""
	if ports[0] != 80 {
		http = ":" + strconv.Itoa(ports[0])
	}
	if ports[1] != 443 {
		https = ":" + strconv.Itoa(ports[1])
	}
	switch {
	case ssl && hostName != "":
		url = "https://" + hostName + https + path
		extra = "-k --resolve " + shellQuote(hostName+":"+strconv.Itoa(ports[1])+":127.0.0.1")
	case hostName != "":
		url = "http://127.0.0.1" + http + path
		extra = "-H " + shellQuote("Host: "+hostName)
	default:
		url = "http://127.0.0.1" + http + path
	}
	return "command -v curl >/dev/null 2>&1 || { echo nocurl; exit 0; }; curl -s -o /dev/null -w '%{http_code}' --max-time 5 " +
		extra + " " + shellQuote(url) + " || true"
}

var dockerVersionRE = regexp.MustCompile(`^(\d+)\.(\d+)`)

func dockerRecentEnough(v string) bool {
	m := dockerVersionRE.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return a > minDockerMajor || a == minDockerMajor && b >= minDockerMinor
}

// clockFinding compares a remote `date +%s.%N` stamp with the local clock
// read just before (t0) and after (t1) it.
func clockFinding(stamp string, t0, t1 time.Time) *Finding {
	secs, frac, _ := strings.Cut(stamp, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return &Finding{Severity: Warn, Check: "live-clock", Message: "cannot read the host's clock", Fix: "check `date` on the host"}
	}
	remote := time.Unix(s, 0)
	resolution := time.Second
	if n, err := strconv.ParseInt((frac + "000000000")[:9], 10, 64); err == nil && frac != "" {
		remote = remote.Add(time.Duration(n))
		resolution = 0
	}
	mid := t0.Add(t1.Sub(t0) / 2)
	skew := remote.Sub(mid)
	slack := t1.Sub(t0)/2 + resolution
	off := time.Duration(math.Abs(float64(skew))) - slack
	if off <= maxSkewWarn {
		return nil
	}
	sev := Warn
	if off > maxSkewError {
		sev = Error
	}
	return &Finding{
		Severity: sev, Check: "live-clock",
		Message: fmt.Sprintf("the host's clock is %s off this machine's", skew.Round(100*time.Millisecond)),
		Fix:     "run time synchronisation on the host (systemd-timesyncd or chrony): TLS, ACME and signed cookies need correct clocks",
	}
}

// diskFinding reads `df -Pk DIR` output.
func diskFinding(df string) *Finding {
	lines := strings.Split(strings.TrimSpace(df), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	if len(fields) < 6 {
		return &Finding{Severity: Warn, Check: "live-disk", Message: "cannot read the free space of Docker's disk", Fix: "check df on the host"}
	}
	availKB, err1 := strconv.ParseInt(fields[3], 10, 64)
	used, err2 := strconv.Atoi(strings.TrimSuffix(fields[4], "%"))
	if err1 != nil || err2 != nil {
		return &Finding{Severity: Warn, Check: "live-disk", Message: "cannot read the free space of Docker's disk", Fix: "check df on the host"}
	}
	avail := availKB * 1024
	fix := "free space (docker kamal prune all, docker system prune) or grow the disk"
	switch {
	case avail < minFreeError:
		return &Finding{Severity: Error, Check: "live-disk", Message: fmt.Sprintf("Docker's disk has only %s free (%d%% used): the next image may not fit", humanSize(avail), used), Fix: fix}
	case avail < minFreeWarn || used >= maxUsedPercent:
		return &Finding{Severity: Warn, Check: "live-disk", Message: fmt.Sprintf("Docker's disk has %s free (%d%% used)", humanSize(avail), used), Fix: fix}
	}
	return nil
}

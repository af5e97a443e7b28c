package fleetops

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// targets lists the selected (host, role) pairs in config order and the
// primary target.
func (s *Session) targets() ([]fleet.Target, fleet.Target, error) {
	sel, err := s.Cfg.Select(s.Opts.Filter)
	if err != nil {
		return nil, fleet.Target{}, err
	}
	var ts []fleet.Target
	var primary fleet.Target
	for _, r := range sel.Roles {
		for _, h := range sel.Hosts[r.Name] {
			t := fleet.Target{Host: h, Role: r.Name}
			if r.Name == s.Cfg.PrimaryRole && h == s.primaryHost() {
				primary = t
			}
			ts = append(ts, t)
		}
	}
	return ts, primary, nil
}

// plan is the deploy plan of the selected targets: primary first, then
// batches of boot.limit hosts.
func (s *Session) plan() (fleet.Plan, error) {
	ts, primary, err := s.targets()
	if err != nil {
		return fleet.Plan{}, err
	}
	return fleet.NewPlan(fleet.PlanOptions{
		Targets:       ts,
		Primary:       primary,
		Limit:         s.Cfg.Boot.BatchSize(len(hostsOf(ts))),
		ParallelRoles: s.Cfg.Boot.ParallelRoles,
	}), nil
}

// hostsOf lists each target's host once, in first-seen order.
func hostsOf(ts []fleet.Target) []string {
	return uniqueOf(ts, func(t fleet.Target) string { return t.Host })
}

// uniqueOf lists key(t) of each target once, in first-seen order.
func uniqueOf(ts []fleet.Target, key func(fleet.Target) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range ts {
		if k := key(t); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// selectedHosts are the app hosts selected by --hosts/--roles/--primary.
func (s *Session) selectedHosts() ([]string, error) {
	sel, err := s.Cfg.Select(s.Opts.Filter)
	if err != nil {
		return nil, err
	}
	return sel.AllHosts(), nil
}

// serverHosts are every host of the config (roles and accessories),
// narrowed by --hosts and --roles.
func (s *Session) serverHosts() ([]string, error) {
	f := s.Opts.Filter
	if len(f.Roles) > 0 || f.Primary {
		return s.selectedHosts()
	}
	return filterHosts(s.Cfg.AllHosts(), f.Hosts), nil
}

// filterHosts keeps hosts matching any pattern (all when none). A bad
// pattern matches nothing; the app commands report it from Select.
func filterHosts(hosts, patterns []string) []string {
	matched, err := spec.MatchHosts(hosts, patterns)
	if err != nil {
		return nil
	}
	return matched
}

// prefixWriter prefixes each complete line with "host | " and writes it
// whole to w under mu, so lines of concurrent hosts never interleave.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			break
		}
		if err := p.emit(p.buf[:i+1]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) emit(line []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := io.WriteString(p.w, p.prefix+string(line))
	return err
}

// Flush writes a last line without newline.
func (p *prefixWriter) Flush() error {
	if len(p.buf) == 0 {
		return nil
	}
	err := p.emit(append(p.buf, '\n'))
	p.buf = nil
	return err
}

// stdinIsData reports a local stdin that is a pipe or a file (not a
// terminal), which a remote command may read.
func stdinIsData() bool {
	fi, err := os.Stdin.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice == 0 && (fi.Mode()&os.ModeNamedPipe != 0 || fi.Mode().IsRegular())
}

// runCommand runs cmd on conn with the plugin's stdio: with a terminal when
// interactive, with the local stdin when attach, else with none. stdout is
// passed through byte for byte.
func runCommand(ctx context.Context, conn *transport.Conn, cmd string, interactive, attach bool, stdout, stderr io.Writer) error {
	switch {
	case interactive:
		return conn.RunTTY(ctx, cmd, os.Stdin, stdout, stderr)
	case attach:
		return conn.Run(ctx, cmd, os.Stdin, stdout, stderr)
	}
	return conn.Run(ctx, cmd, nil, stdout, stderr)
}

// runInput runs script with stdin and returns its trimmed stdout.
func runInput(ctx context.Context, conn *transport.Conn, script, stdin string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	var out, errb strings.Builder
	if err := conn.Run(ctx, script, strings.NewReader(stdin), &out, &errb); err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

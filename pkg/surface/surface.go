// Package surface is the day-to-day command surface of `docker kamal`
// beyond deploy: app, accessory, proxy, audit, details, prune, server,
// secrets, registry, remove and the config's aliases. Each noun lives in
// its own file; the remote shell lines they run are built by pure
// functions tested beside them.
package surface

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Tunables.
const (
	// remoteTimeout bounds one short remote command (ps, inspect, stop).
	remoteTimeout = 2 * time.Minute
	// cleanupTimeout bounds clean-up after the command's own context ended.
	cleanupTimeout = 20 * time.Second
)

// Register plugs every command of this package into the tree.
func Register() {
	registerApp()
	registerAccessory()
	registerProxy()
	registerAudit()
	registerDetails()
	registerPrune()
	registerServer()
	registerSecrets()
	registerRegistry()
	registerRemove()
	registerAliases()
}

// jsonFlag is --json on commands whose output is data.
var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print the result as JSON"}

// handler adapts a function over an open session to a command handler.
func handler(fn func(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error) command.Handler {
	return func(ctx context.Context, g *command.Globals, c *cli.Context) error {
		s, err := fleetcmd.Open(ctx, g)
		if err != nil {
			return err
		}
		defer s.Close()
		return fn(ctx, s, c)
	}
}

// exitCode maps a remote non-zero exit to the plugin's exit code, so
// `docker kamal app exec` exits as the command did.
func exitCode(err error) error {
	var ee *transport.ExitError
	if errors.As(err, &ee) && ee.Code > 0 {
		return &command.ExitError{Code: ee.Code, Err: err}
	}
	return err
}

// selectedHosts are the app hosts selected by --hosts/--roles/--primary.
func selectedHosts(s *fleetcmd.Session) ([]string, error) {
	sel, err := s.Cfg.Select(s.Filter())
	if err != nil {
		return nil, err
	}
	return sel.AllHosts(), nil
}

// serverHosts are every host of the config (roles and accessories),
// narrowed by --hosts and --roles.
func serverHosts(s *fleetcmd.Session) ([]string, error) {
	f := s.Filter()
	if len(f.Roles) > 0 || f.Primary {
		return selectedHosts(s)
	}
	return filterHosts(s.Cfg.AllHosts(), f.Hosts), nil
}

// filterHosts keeps hosts matching any pattern (all when none).
func filterHosts(hosts, patterns []string) []string {
	if len(patterns) == 0 {
		return hosts
	}
	sel, _ := (&spec.Config{Roles: []*spec.Role{{Name: "x", Hosts: hosts}}}).Select(spec.Filter{Hosts: patterns})
	if sel == nil {
		return nil
	}
	return sel.Hosts["x"]
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

// hostErrors joins per-host errors.
func hostErrors(errs []error) error { return errors.Join(errs...) }

// confirm asks a yes/no question on in unless yes is set.
func confirm(in io.Reader, out io.Writer, yes bool, question string) error {
	if yes {
		return nil
	}
	fmt.Fprintf(out, "%s [y/N] ", question)
	var answer string
	if _, err := fmt.Fscanln(in, &answer); err != nil || !strings.EqualFold(strings.TrimSpace(answer), "y") && !strings.EqualFold(strings.TrimSpace(answer), "yes") {
		return errors.New("cancelled (pass -y to skip the question)")
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

// Package fleetops is what the plugin's commands do to the fleet: it loads
// the config, opens one SSH connection per host, reaches each host's
// sidecar through its forwarded unix socket, and carries out each command
// (deploy, rollback, build, lock, app, accessory, proxy, audit, details,
// prune, server, registry, remove), handing the ordering of a deploy to
// pkg/deploy and pkg/fleet. It knows nothing of the command line: the
// commands (pkg/fleetcmd) map their flags onto its methods.
package fleetops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// EnvAcceptNewHostKeys opts into recording unknown host keys (OpenSSH's
// StrictHostKeyChecking=accept-new). A changed key is refused regardless.
const EnvAcceptNewHostKeys = "DOCKER_KAMAL_ACCEPT_NEW_HOST_KEYS"

// Tunables of calls that are not a command's own.
const (
	// sidecarCallTimeout bounds one non-streaming sidecar call.
	sidecarCallTimeout = 60 * time.Second
	// remoteTimeout bounds one short remote command (ps, inspect, stop).
	remoteTimeout = 2 * time.Minute
	// cleanupTimeout bounds clean-up after the command's own context ended.
	cleanupTimeout = 20 * time.Second
)

// Options are what one command runs against and how it reports.
type Options struct {
	ConfigFile  string
	Destination string
	// Filter is the --hosts, --roles and --primary selection.
	Filter spec.Filter
	// Version is --version: the app version to act on ("" for the default).
	Version   string
	Verbose   bool
	Quiet     bool
	SkipHooks bool
	// Command and Subcommand name the command running, as Kamal names
	// them for hooks (KAMAL_COMMAND "proxy", KAMAL_SUBCOMMAND "reboot").
	Command    string
	Subcommand string
	// DockerFlags are passed to every local `docker` invocation.
	DockerFlags []string
	// NoCache builds the app image without BuildKit's cache (--no-cache).
	NoCache bool
	Stdout  io.Writer
	Stderr  io.Writer
}

// unixDialer opens a connection to a unix socket on a host; a
// *transport.Conn is one.
type unixDialer interface {
	DialUnix(ctx context.Context, path string) (net.Conn, error)
}

// Session is everything one command needs, opened once.
type Session struct {
	Opts Options
	Cfg  *spec.Config

	out  *output.Printer
	pool *transport.Pool

	// connect reaches a host (the pool's SSH connection); a field so tests
	// can stand in for SSH.
	connect  func(ctx context.Context, host string) (unixDialer, error)
	mu       sync.Mutex
	sidecars map[string]*sidecarclient.Client

	// version is the version a deploy acts on, once known (hooks).
	version string
	// preConnectOnce runs the pre-connect hook before the first dial.
	preConnectOnce sync.Once
	preConnectErr  error

	// The engine of the app image (engine.go), opened once.
	engineOnce    sync.Once
	engineFlags   []string
	engineErr     error
	engineForward *engineForward
	// hostArch caches each host's engine architecture (archcheck.go).
	hostArch sync.Map
}

// Open loads the config for o and prepares (lazily dialled) SSH
// connections.
func Open(ctx context.Context, o Options) (*Session, error) {
	cfg, err := spec.Load(ctx, spec.LoadOptions{ConfigFile: o.ConfigFile, Destination: o.Destination})
	if err != nil {
		return nil, err
	}
	level := output.Normal
	switch {
	case o.Quiet:
		level = output.Quiet
	case o.Verbose:
		level = output.Verbose
	}
	out := output.New(o.Stdout, o.Stderr, level, cfg.SecretValues())
	var s *Session
	sshOpts := SSHOptions(cfg)
	sshOpts.BeforeConnect = func(ctx context.Context) error { return s.preConnect(ctx) }
	pool, err := transport.NewPool(sshOpts)
	if err != nil {
		return nil, fmt.Errorf("set up ssh: %w", err)
	}
	s = newSession(o, cfg, out, pool)
	return s, nil
}

func newSession(o Options, cfg *spec.Config, out *output.Printer, pool *transport.Pool) *Session {
	s := &Session{Opts: o, Cfg: cfg, out: out, pool: pool, sidecars: map[string]*sidecarclient.Client{}}
	s.connect = func(ctx context.Context, host string) (unixDialer, error) { return s.pool.Get(ctx, host) }
	return s
}

// SSHOptions maps deploy.yml's `ssh:` section onto the transport: user,
// port, keys, proxy (jump host) or proxy_command, and `config` (false: no
// ssh config; a path or list: those files; unset: ~/.ssh/config).
func SSHOptions(cfg *spec.Config) transport.Options {
	accept := os.Getenv(EnvAcceptNewHostKeys)
	o := transport.Options{
		User:              cfg.SSH.User,
		Port:              cfg.SSH.Port,
		KeyFiles:          cfg.SSH.Keys,
		KeysOnly:          cfg.SSH.KeysOnly,
		Proxy:             cfg.SSH.Proxy,
		ProxyCommand:      cfg.SSH.ProxyCommand,
		AcceptNewHostKeys: accept == "1" || accept == "true",
		KeyData:           keyData(cfg.SSH.KeyData),
		ForwardAgent:      cfg.SSH.ForwardAgent == nil || *cfg.SSH.ForwardAgent,
		Logger:            sshLogger(cfg.SSH.LogLevel, os.Stderr),
	}
	if k := cfg.SSHKit; k != nil {
		o.MaxConcurrentDials, o.DNSRetries = k.MaxConcurrentStarts, k.DNSRetries
	}
	if cfg.SSH.Config != nil {
		if len(cfg.SSH.Config) == 0 {
			o.ConfigFile = "none"
		} else {
			o.ConfigFile = cfg.SSH.Config[0]
			o.ConfigFiles = cfg.SSH.Config[1:]
		}
	}
	return o
}

// Close releases every connection.
func (s *Session) Close() {
	s.mu.Lock()
	for _, c := range s.sidecars {
		c.Close()
	}
	s.mu.Unlock()
	if s.engineForward != nil {
		_ = s.engineForward.Close() // the command is done; nothing is left to forward
	}
	if s.pool != nil {
		_ = s.pool.Close() // the command is done; closing cannot fail it any more
	}
}

// sidecar returns the API client of host's sidecar, over SSH. The lock
// guards the map only: reaching a host (an SSH dial the first time) never
// holds it, so first connections to several hosts happen at once.
func (s *Session) sidecar(ctx context.Context, host string) (*sidecarclient.Client, error) {
	s.mu.Lock()
	c, ok := s.sidecars[host]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	conn, err := s.connect(ctx, host)
	if err != nil {
		return nil, err
	}
	c = sidecarclient.NewClient(func(ctx context.Context) (net.Conn, error) {
		return conn.DialUnix(ctx, contract.SocketPath)
	})
	c.Who = performer() // recorded in the host's audit log
	s.mu.Lock()
	defer s.mu.Unlock()
	if first, ok := s.sidecars[host]; ok {
		// Another caller got there first: one client per host.
		c.Close()
		return first, nil
	}
	s.sidecars[host] = c
	return c, nil
}

// role names a role of this service and destination for the sidecar API.
func (s *Session) role(role string) contract.Role {
	return contract.Role{Service: s.Cfg.Service, Destination: s.Cfg.Destination, Role: role}
}

// performer is who runs the command, for the lock, hooks and audit.
func performer() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		name += "@" + h
	}
	return name
}

// imageRef is the app image reference of a version.
func (s *Session) imageRef(version string) string {
	return s.imageRepo() + ":" + version
}

// imageRepo is the app image's repository, with the registry's server in
// front when the image does not name it.
func (s *Session) imageRepo() string {
	img := s.Cfg.Image
	if img == "" {
		img = s.Cfg.Service
	}
	if s.Cfg.Registry != nil && s.Cfg.Registry.Server != "" && !strings.HasPrefix(img, s.Cfg.Registry.Server+"/") {
		img = s.Cfg.Registry.Server + "/" + img
	}
	return img
}

// primaryHost is the primary role's first host.
func (s *Session) primaryHost() string {
	if s.Cfg.PrimaryHost != "" {
		return s.Cfg.PrimaryHost
	}
	return s.Cfg.AllHosts()[0]
}

// eachHost runs fn on hosts in parallel (bounded by the pool) and joins
// per-host errors, each naming its host.
func (s *Session) eachHost(ctx context.Context, hosts []string, fn func(ctx context.Context, c *transport.Conn) error) error {
	// Each error is a *transport.HostError, which names its host.
	return errors.Join(s.pool.Each(ctx, hosts, fn)...)
}

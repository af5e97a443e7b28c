// Package fleetcmd implements the fleet commands of the plugin (setup,
// deploy, redeploy, rollback, lock): it loads the config, opens one SSH
// connection per host, reaches each host's sidecar through its forwarded
// unix socket, and hands the ordering to pkg/deploy and pkg/fleet.
package fleetcmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/sidecarclient"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// EnvAcceptNewHostKeys opts into recording unknown host keys (OpenSSH's
// StrictHostKeyChecking=accept-new). A changed key is refused regardless.
const EnvAcceptNewHostKeys = "DOCKER_KAMAL_ACCEPT_NEW_HOST_KEYS"

// sidecarCallTimeout bounds one non-streaming sidecar call.
const sidecarCallTimeout = 60 * time.Second

// Session is everything one command needs, opened once.
type Session struct {
	G    *command.Globals
	Cfg  *spec.Config
	Out  *output.Printer
	Pool *transport.Pool

	mu       sync.Mutex
	sidecars map[string]*sidecarclient.Client
}

// Open loads the config for the globals and prepares (lazily dialled) SSH
// connections.
func Open(ctx context.Context, g *command.Globals) (*Session, error) {
	cfg, err := spec.Load(ctx, spec.LoadOptions{ConfigFile: g.ConfigFile, Destination: g.Destination})
	if err != nil {
		return nil, err
	}
	level := output.Normal
	switch {
	case g.Quiet:
		level = output.Quiet
	case g.Verbose:
		level = output.Verbose
	}
	out := output.New(g.Stdout, g.Stderr, level, cfg.SecretValues())
	pool, err := transport.NewPool(SSHOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("set up ssh: %w", err)
	}
	return &Session{G: g, Cfg: cfg, Out: out, Pool: pool, sidecars: map[string]*sidecarclient.Client{}}, nil
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
	_ = s.Pool.Close()
}

// Sidecar returns the API client of host's sidecar, over SSH.
func (s *Session) Sidecar(ctx context.Context, host string) (*sidecarclient.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sidecars[host]; ok {
		return c, nil
	}
	conn, err := s.Pool.Get(ctx, host)
	if err != nil {
		return nil, err
	}
	c := sidecarclient.NewClient(func(ctx context.Context) (net.Conn, error) {
		return conn.DialUnix(ctx, contract.SocketPath)
	})
	c.Who = Performer() // recorded in the host's audit log
	s.sidecars[host] = c
	return c, nil
}

// Role names a role of this service and destination for the sidecar API.
func (s *Session) Role(role string) contract.Role {
	return contract.Role{Service: s.Cfg.Service, Destination: s.Cfg.Destination, Role: role}
}

// Performer is who runs the command, for the lock, hooks and audit.
func Performer() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		name += "@" + h
	}
	return name
}

// ImageRef is the app image reference of a version.
func (s *Session) ImageRef(version string) string {
	img := s.Cfg.Image
	if img == "" {
		img = s.Cfg.Service
	}
	if s.Cfg.Registry != nil && s.Cfg.Registry.Server != "" && !strings.HasPrefix(img, s.Cfg.Registry.Server+"/") {
		img = s.Cfg.Registry.Server + "/" + img
	}
	return img + ":" + version
}

// PrimaryHost is the primary role's first host.
func (s *Session) PrimaryHost() string {
	if s.Cfg.PrimaryHost != "" {
		return s.Cfg.PrimaryHost
	}
	return s.Cfg.AllHosts()[0]
}

// eachHost runs fn on hosts in parallel (bounded by the pool) and joins
// per-host errors, each naming its host.
func (s *Session) eachHost(ctx context.Context, hosts []string, fn func(ctx context.Context, c *transport.Conn) error) error {
	// Each error is a *transport.HostError, which names its host.
	return errors.Join(s.Pool.Each(ctx, hosts, fn)...)
}

func (s *Session) filter() spec.Filter {
	return spec.Filter{Hosts: s.G.Hosts, Roles: s.G.Roles, Primary: s.G.Primary}
}

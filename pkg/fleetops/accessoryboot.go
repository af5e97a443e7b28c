package fleetops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// accessoryEnv resolves an accessory's env: clear values and secrets.
func (s *Session) accessoryEnv(a *spec.Accessory) (map[string]string, error) {
	env := map[string]string{}
	for k, v := range a.Env.Clear {
		env[k] = v
	}
	for _, ref := range a.Env.Secret {
		v, ok := s.Cfg.Secret(ref.From)
		if !ok {
			return nil, fmt.Errorf("secret %s (env %s of accessory %s) is not set in the secrets files", ref.From, ref.Name, a.Name)
		}
		env[ref.Name] = v
	}
	return env, nil
}

// accessoryHome is where an accessory's files and directories live on a
// host: <login home>/<accessory service>, as in Kamal. Docker needs
// absolute paths (a relative one would name a volume).
func accessoryHome(ctx context.Context, c *transport.Conn, a *spec.Accessory) (string, error) {
	out, err := c.Output(ctx, `printf %s "$HOME"`)
	home := strings.TrimSpace(string(out))
	if err != nil || !path.IsAbs(home) {
		return "", fmt.Errorf("find the login home directory: %v %q", err, home)
	}
	return path.Join(home, a.Service), nil
}

// bootAccessories boots, for setup, every accessory that is not running
// yet (the hosts are prepared; sh ships the images the local engine has).
func (s *Session) bootAccessories(ctx context.Context, sh *shipper) error {
	var errs []error
	for _, name := range s.accessoryNames() {
		a := s.Cfg.Accessory(name)
		if err := s.shipIfLocal(ctx, sh, a.Image, a.Hosts); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := s.bootAccessoryHosts(ctx, a, a.Hosts); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// bootAccessoryOn boots a on hosts (a subset of a.Hosts): prepares the
// hosts, ships the image if the local engine has it, uploads files,
// creates directories and runs the container. A running accessory is left
// alone; a stopped one is started. A proxied one then gets its route.
func (s *Session) bootAccessoryOn(ctx context.Context, a *spec.Accessory, hosts []string) error {
	if len(hosts) == 0 {
		return nil
	}
	if err := s.prepareHosts(ctx, hosts); err != nil {
		return err
	}
	sh := newShipper(s, hosts)
	defer sh.Close()
	if err := s.shipIfLocal(ctx, sh, a.Image, hosts); err != nil {
		return err
	}
	if err := s.bootAccessoryHosts(ctx, a, hosts); err != nil {
		return err
	}
	if a.Proxy == nil {
		return nil
	}
	// A proxied accessory's route travels in the Traefik boot request, as
	// in Kamal's accessory boot, which deploys it to the proxy.
	if err := s.ensureSidecar(ctx, sh, hosts); err != nil {
		return err
	}
	return s.bootTraefik(ctx, sh, hosts)
}

// bootAccessoryHosts boots a on each of hosts in parallel.
func (s *Session) bootAccessoryHosts(ctx context.Context, a *spec.Accessory, hosts []string) error {
	return s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		t0 := time.Now()
		status, err := s.bootAccessory(ctx, c, a)
		if err != nil {
			return fmt.Errorf("boot accessory %s: %w", a.Name, err)
		}
		s.out.Step(c.Host(), "accessory "+a.Name, status, time.Since(t0))
		return nil
	})
}

// bootAccessory boots a on the host c reaches and says what it did.
func (s *Session) bootAccessory(ctx context.Context, c *transport.Conn, a *spec.Accessory) (string, error) {
	// No container (an error here) is the third case: run a new one.
	state, _ := c.Output(ctx, "docker inspect --format '{{.State.Running}}' "+transport.Quote(a.Service)+" 2>/dev/null")
	switch strings.TrimSpace(string(state)) {
	case "true":
		return "already running", nil
	case "false":
		if out, err := c.Output(ctx, "docker start "+transport.Quote(a.Service)); err != nil {
			return "", fmt.Errorf("start: %w: %s", err, strings.TrimSpace(string(out)))
		}
		return "started", nil
	}
	home, err := accessoryHome(ctx, c, a)
	if err != nil {
		return "", err
	}
	if err := s.uploadAccessoryFiles(ctx, c, a, home); err != nil {
		return "", err
	}
	env, err := s.accessoryEnv(a)
	if err != nil {
		return "", err
	}
	envFile, err := envFileOf(env)
	if err != nil {
		return "", err
	}
	args := accessoryRunArgs(a, home)
	var mkdirs []string
	for _, d := range a.Directories {
		mkdirs = append(mkdirs, transport.Quote(hostPath(home, d.Local)))
	}
	mk := ""
	if len(mkdirs) > 0 {
		mk = "mkdir -p " + strings.Join(mkdirs, " ") + "; "
	}
	// Secrets travel on stdin into a 0600 file, never on a command line.
	script := `set -e; umask 077; f=$(mktemp /tmp/kamal-env.XXXXXX); trap 'rm -f "$f"' EXIT; cat > "$f"; ` + mk +
		`docker run --env-file "$f" ` + transport.Quote(args...)
	if a.Cmd != "" {
		script += " " + a.Cmd
	}
	if err := s.accessoryLogin(ctx, c, a); err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := c.Run(ctx, script, strings.NewReader(envFile), &out, &out); err != nil {
		return "", fmt.Errorf("docker run: %w: %s", err, s.out.Redact(strings.TrimSpace(out.String())))
	}
	if err := waitAccessoryPort(ctx, c, a); err != nil {
		return "", err
	}
	return "booted " + a.Image, nil
}

// accessoryLogin logs the host in to the accessory's own registry (its
// registry: with username and password), so the docker run that follows
// can pull a private image, as Kamal does. The password goes on stdin.
func (s *Session) accessoryLogin(ctx context.Context, c remoteHost, a *spec.Accessory) error {
	args := registryLoginArgs(a.Registry)
	if args == nil {
		return nil
	}
	var out bytes.Buffer
	if err := c.Run(ctx, transport.Quote(append([]string{"docker"}, args...)...), strings.NewReader(a.Registry.Password), &out, &out); err != nil {
		return fmt.Errorf("log in to %s for accessory %s: %w: %s", a.Registry.Server, a.Name, err, s.out.Redact(strings.TrimSpace(out.String())))
	}
	return nil
}

// accessoryReadyTimeout bounds the wait for a new accessory's port.
const accessoryReadyTimeout = 2 * time.Minute

// waitAccessoryPort waits until a freshly booted accessory accepts
// connections on its port, so the deploy that follows (and its migrations)
// does not race a database still initialising. It dials the container's
// own address from the host: the published port would be accepted by
// Docker's proxy before the server inside listens.
func waitAccessoryPort(ctx context.Context, c *transport.Conn, a *spec.Accessory) error {
	port := containerPort(a.Port)
	if port == "" {
		return nil
	}
	network := a.Network
	if network == "" {
		network = contract.DefaultNetwork
	}
	out, err := c.Output(ctx, fmt.Sprintf(`docker inspect --format '{{with index .NetworkSettings.Networks %q}}{{.IPAddress}}{{end}}' %s`, network, transport.Quote(a.Service)))
	ip := strings.TrimSpace(string(out))
	if err != nil || net.ParseIP(ip) == nil {
		return fmt.Errorf("find the address of accessory %s on network %s: %v %q", a.Name, network, err, ip)
	}
	ctx, cancel := context.WithTimeout(ctx, accessoryReadyTimeout)
	defer cancel()
	var last error
	for {
		dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
		nc, err := c.DialTCP(dctx, net.JoinHostPort(ip, port))
		dcancel()
		if err == nil {
			_ = nc.Close() // the probe only needed the connection to open
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("accessory %s did not accept connections on port %s within %s: %v", a.Name, port, accessoryReadyTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// containerPort is the container side of an accessory's `port:` ("5432",
// "5433:5432", "127.0.0.1:5432:5432/tcp"), or "" when there is none.
func containerPort(p string) string {
	if p == "" {
		return ""
	}
	parts := strings.Split(p, ":")
	return strings.TrimSuffix(parts[len(parts)-1], "/tcp")
}

// hostPath resolves an accessory directory or file path on the host.
func hostPath(home, p string) string {
	if path.IsAbs(p) {
		return p
	}
	return path.Join(home, p)
}

func accessoryRunArgs(a *spec.Accessory, home string) []string {
	network := a.Network
	if network == "" {
		network = contract.DefaultNetwork
	}
	args := []string{"--detach", "--name", a.Service, "--restart", "unless-stopped", "--network", network,
		"--log-opt", "max-size=10m", "--label", "service=" + a.Service, "--label", "kamal.accessory=" + a.Name}
	if a.Port != "" {
		p := a.Port
		if !strings.Contains(p, ":") {
			p = p + ":" + p
		}
		args = append(args, "--publish", p)
	}
	for _, f := range a.Files {
		args = append(args, "--volume", hostPath(home, strings.TrimPrefix(f.Remote, "/"))+":"+f.Remote+optSuffix(f.Options))
	}
	for _, d := range a.Directories {
		args = append(args, "--volume", hostPath(home, d.Local)+":"+d.Remote+optSuffix(d.Options))
	}
	for _, v := range a.Volumes {
		args = append(args, "--volume", v)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		args = append(args, "--label", k+"="+a.Labels[k])
	}
	for _, k := range slices.Sorted(maps.Keys(a.Options)) {
		for _, v := range a.Options[k] {
			if v == "" {
				args = append(args, "--"+k)
				continue
			}
			args = append(args, "--"+k, v)
		}
	}
	return append(args, a.Image)
}

func optSuffix(o string) string {
	if o == "" {
		return ""
	}
	return ":" + o
}

// uploadAccessoryFiles copies each `files:` entry to the host with its mode
// and owner, rendering .erb templates first. Files may hold secrets
// (rendered ones especially), so they are written 0600 unless a mode is
// given, and their content is never printed.
func (s *Session) uploadAccessoryFiles(ctx context.Context, c *transport.Conn, a *spec.Accessory, home string) error {
	lookup := accessoryERBLookup(a, os.LookupEnv, s.Cfg.Secret)
	for _, f := range a.Files {
		data, err := accessoryFileContent(f, lookup)
		if err != nil {
			return err
		}
		dst := hostPath(home, strings.TrimPrefix(f.Remote, "/"))
		mode := f.Mode
		if mode == "" {
			mode = "0600"
		}
		script := fmt.Sprintf("set -e; mkdir -p %s; umask 077; cat > %s; chmod %s %s",
			transport.Quote(path.Dir(dst)), transport.Quote(dst), transport.Quote(mode), transport.Quote(dst))
		if f.Owner != "" {
			script += "; chown " + transport.Quote(f.Owner) + " " + transport.Quote(dst)
		}
		var errb bytes.Buffer
		if err := c.Run(ctx, script, bytes.NewReader(data), nil, &errb); err != nil {
			return fmt.Errorf("upload %s to %s: %w: %s", f.Local, dst, err, strings.TrimSpace(errb.String()))
		}
	}
	return nil
}

// accessoryFileContent is what is uploaded for one `files:` entry: the local
// file as it is, or rendered as ERB when its name ends in .erb (as Kamal
// does; the remote path stays what the config says). Render errors name the
// local file and line.
func accessoryFileContent(f spec.Mount, lookup func(string) (string, bool)) ([]byte, error) {
	data, err := os.ReadFile(filepath.Clean(f.Local))
	if err != nil {
		return nil, fmt.Errorf("read accessory file %s: %w", f.Local, err)
	}
	if !strings.HasSuffix(f.Local, ".erb") {
		return data, nil
	}
	out, err := spec.RenderERBFile(f.Local, data, lookup)
	if err != nil {
		return nil, fmt.Errorf("render accessory file: %w", err)
	}
	return out, nil
}

// accessoryERBLookup is what ENV means in an accessory's ERB files. Kamal
// loads the accessory's clear env over the process environment while
// rendering, so those come first. Kamal 2 does not put secrets in ENV, but
// a template naming one is almost always meant to get it, so resolved
// secrets are the fallback: an env.secret name of the accessory (`A:B`
// gives ENV["A"] secret B), then any secret by its own name. Only secrets
// the config refers to are resolved (spec.Config.Secret); others stay unset.
func accessoryERBLookup(a *spec.Accessory, env, secret func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := a.Env.Clear[name]; ok {
			return v, true
		}
		if v, ok := env(name); ok {
			return v, true
		}
		for _, ref := range a.Env.Secret {
			if ref.Name == name {
				if v, ok := secret(ref.From); ok {
					return v, true
				}
			}
		}
		return secret(name)
	}
}

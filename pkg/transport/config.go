package transport

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// maxJumps bounds a ProxyJump chain.
const maxJumps = 8

// target is one host resolved against Options and the ssh config: everything
// needed to dial it.
type target struct {
	Alias          string // the name the user gave (deploy.yml host)
	HostName       string // what is dialled
	Port           int
	User           string
	KeyFiles       []string
	KeysOnly       bool
	KnownHosts     []string
	HostKeyAlias   string
	AcceptNew      bool
	AgentSocket    string
	Jumps          []*target // hops before this one, first is dialled first
	ProxyCommand   string    // ssh config ProxyCommand, used when there are no jumps
	explicitKeyset bool      // KeyFiles came from Options or IdentityFile
}

// addr is the host:port dialled.
func (t *target) addr() string {
	return net.JoinHostPort(t.HostName, strconv.Itoa(t.Port))
}

// knownHostsAddr is the host:port looked up in known_hosts.
func (t *target) knownHostsAddr() string {
	h := t.HostName
	if t.HostKeyAlias != "" {
		h = t.HostKeyAlias
	}
	return net.JoinHostPort(h, strconv.Itoa(t.Port))
}

// sshConfig is the subset of ssh_config lookups the resolver needs.
type sshConfig interface {
	Get(alias, key string) (string, error)
	GetAll(alias, key string) ([]string, error)
}

type noConfig struct{}

func (noConfig) Get(string, string) (string, error)      { return "", nil }
func (noConfig) GetAll(string, string) ([]string, error) { return nil, nil }

// loadConfigs reads opts.ConfigFile then opts.ConfigFiles; for each key the
// first file that sets it wins, as with OpenSSH's -F plus includes.
func loadConfigs(opts Options) (sshConfig, error) {
	paths := append([]string{opts.ConfigFile}, opts.ConfigFiles...)
	var cfgs multiConfig
	for _, p := range paths {
		if p == "" {
			continue
		}
		c, err := loadConfig(p)
		if err != nil {
			return nil, err
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, nil
}

// multiConfig looks keys up in several configs in order.
type multiConfig []sshConfig

func (m multiConfig) Get(alias, key string) (string, error) {
	for _, c := range m {
		v, err := c.Get(alias, key)
		if err != nil || v != "" {
			return v, err
		}
	}
	return "", nil
}

func (m multiConfig) GetAll(alias, key string) ([]string, error) {
	var all []string
	for _, c := range m {
		v, err := c.GetAll(alias, key)
		if err != nil {
			return nil, err
		}
		all = append(all, v...)
	}
	return all, nil
}

// loadConfig reads the ssh config named by path ("none" for none). A missing
// default config is not an error; a missing explicit one is.
func loadConfig(path string) (sshConfig, error) {
	if path == "none" {
		return noConfig{}, nil
	}
	p, err := expandHome(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) && path == DefaultConfigFile {
		return noConfig{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ssh config: %w", err)
	}
	defer f.Close()
	cfg, err := ssh_config.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("parse ssh config %s: %w (set the config file to \"none\" to skip it)", path, err)
	}
	return cfg, nil
}

// resolve turns a host as written in deploy.yml ("host", "user@host",
// "host:port", "[v6]:port") into a target, applying opts over cfg over
// defaults. Jump hosts are resolved the same way, without their own jumps.
func resolve(host string, opts Options, cfg sshConfig) (*target, error) {
	t, err := resolveHop(host, opts, cfg)
	if err != nil {
		return nil, err
	}
	proxy := opts.Proxy
	if proxy == "" && opts.ProxyCommand != "" {
		t.ProxyCommand = opts.ProxyCommand
		return t, nil
	}
	if proxy == "" {
		proxy, err = cfg.Get(t.Alias, "ProxyJump")
		if err != nil {
			return nil, fmt.Errorf("read ProxyJump for %s: %w", t.Alias, err)
		}
	}
	if proxy != "" && !strings.EqualFold(proxy, "none") {
		hops := strings.Split(proxy, ",")
		if len(hops) > maxJumps {
			return nil, fmt.Errorf("resolve proxy %q: more than %d jump hosts", proxy, maxJumps)
		}
		jumpOpts := opts
		jumpOpts.User, jumpOpts.Port = "", 0 // ssh.user/port are for the app hosts
		for _, h := range hops {
			h = strings.TrimPrefix(strings.TrimSpace(h), "ssh://")
			if h == "" {
				return nil, fmt.Errorf("resolve proxy %q: empty jump host", proxy)
			}
			j, err := resolveHop(h, jumpOpts, cfg)
			if err != nil {
				return nil, fmt.Errorf("resolve jump host %s: %w", h, err)
			}
			t.Jumps = append(t.Jumps, j)
		}
		return t, nil
	}
	pc, err := cfg.Get(t.Alias, "ProxyCommand")
	if err != nil {
		return nil, fmt.Errorf("read ProxyCommand for %s: %w", t.Alias, err)
	}
	if pc != "" && !strings.EqualFold(pc, "none") {
		t.ProxyCommand = pc
	}
	return t, nil
}

func resolveHop(host string, opts Options, cfg sshConfig) (*target, error) {
	user, alias, port, err := splitHostSpec(host)
	if err != nil {
		return nil, err
	}
	get := func(key string) string {
		v, _ := cfg.Get(alias, key) // errors only for invalid Include; treat as unset
		return strings.TrimSpace(v)
	}
	t := &target{Alias: alias, HostName: alias}
	if hn := get("HostName"); hn != "" {
		t.HostName = expandTokens(hn, alias, "", "", 0)
	}

	switch {
	case port != 0:
		t.Port = port
	case opts.Port != 0:
		t.Port = opts.Port
	default:
		t.Port = DefaultPort
		if p := get("Port"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 65535 {
				return nil, fmt.Errorf("ssh config: bad Port %q for %s", p, alias)
			}
			t.Port = n
		}
	}

	switch {
	case user != "":
		t.User = user
	case opts.User != "":
		t.User = opts.User
	case get("User") != "":
		t.User = get("User")
	default:
		t.User = DefaultUser
	}

	t.HostKeyAlias = get("HostKeyAlias")
	t.KeysOnly = opts.KeysOnly || strings.EqualFold(get("IdentitiesOnly"), "yes")
	shkc := strings.ToLower(get("StrictHostKeyChecking"))
	t.AcceptNew = opts.AcceptNewHostKeys || shkc == "accept-new" || shkc == "no" || shkc == "off"

	for _, k := range opts.KeyFiles {
		p, err := expandHome(expandTokens(k, alias, t.HostName, t.User, t.Port))
		if err != nil {
			return nil, err
		}
		t.KeyFiles = append(t.KeyFiles, p)
	}
	ids, _ := cfg.GetAll(alias, "IdentityFile")
	for _, k := range ids {
		if strings.EqualFold(k, "none") {
			continue
		}
		p, err := expandHome(expandTokens(k, alias, t.HostName, t.User, t.Port))
		if err != nil {
			return nil, err
		}
		t.KeyFiles = append(t.KeyFiles, p)
	}
	t.explicitKeyset = len(t.KeyFiles) > 0
	if !t.explicitKeyset {
		for _, k := range DefaultKeyFiles {
			p, err := expandHome(k)
			if err != nil {
				return nil, err
			}
			if _, err := os.Stat(p); err == nil {
				t.KeyFiles = append(t.KeyFiles, p)
			}
		}
	}

	khs := opts.KnownHostsFiles
	if len(khs) == 0 {
		if v := get("UserKnownHostsFile"); v != "" {
			khs = strings.Fields(v)
		} else {
			khs = []string{DefaultKnownHosts}
		}
		if _, err := os.Stat(GlobalKnownHosts); err == nil {
			khs = append(khs, GlobalKnownHosts)
		}
	}
	for _, k := range khs {
		p, err := expandHome(expandTokens(k, alias, t.HostName, t.User, t.Port))
		if err != nil {
			return nil, err
		}
		t.KnownHosts = append(t.KnownHosts, p)
	}

	switch {
	case opts.AgentSocket != "":
		t.AgentSocket = opts.AgentSocket
	case get("IdentityAgent") != "" && get("IdentityAgent") != "SSH_AUTH_SOCK":
		t.AgentSocket = get("IdentityAgent")
	default:
		t.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
	}
	if t.AgentSocket != "" && t.AgentSocket != "none" {
		p, err := expandHome(t.AgentSocket)
		if err != nil {
			return nil, err
		}
		t.AgentSocket = p
	}
	return t, nil
}

// splitHostSpec parses "[user@]host[:port]" (IPv6 in brackets).
func splitHostSpec(s string) (user, host string, port int, err error) {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		user, s = s[:i], s[i+1:]
	}
	host = s
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		h, p, splitErr := net.SplitHostPort(s)
		if splitErr == nil {
			n, convErr := strconv.Atoi(p)
			if convErr != nil || n <= 0 || n > 65535 {
				return "", "", 0, fmt.Errorf("parse host %q: bad port %q", s, p)
			}
			host, port = h, n
		} else if strings.HasPrefix(s, "[") {
			host = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		}
	}
	if host == "" {
		return "", "", 0, fmt.Errorf("parse host %q: empty host name", s)
	}
	return user, host, port, nil
}

// expandTokens replaces the OpenSSH tokens %h %n %p %r %u %d %% that are
// common in IdentityFile and UserKnownHostsFile.
func expandTokens(s, alias, hostName, user string, port int) string {
	if !strings.Contains(s, "%") {
		return s
	}
	home, _ := os.UserHomeDir()
	local := os.Getenv("USER")
	if hostName == "" {
		hostName = alias
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'h':
			b.WriteString(hostName)
		case 'n':
			b.WriteString(alias)
		case 'p':
			b.WriteString(strconv.Itoa(port))
		case 'r':
			b.WriteString(user)
		case 'u':
			b.WriteString(local)
		case 'd':
			b.WriteString(home)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// expandHome replaces a leading "~/" with the home directory.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %s: %w", p, err)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// tildePath shortens a path under the home directory to "~/..." for messages.
func tildePath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return p
	}
	if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") {
		return "~/" + filepath.ToSlash(rel)
	}
	return p
}

package transport

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	KeyData        [][]byte  // in-memory private keys (ssh.key_data)
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
		t.Jumps, err = resolveJumps(proxy, opts, cfg)
		if err != nil {
			return nil, err
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

// resolveJumps resolves a ProxyJump list ("[user@]host[:port],...", first
// dialled first). ssh.user and ssh.port are for the app hosts, so the jump
// hosts do not inherit them.
func resolveJumps(proxy string, opts Options, cfg sshConfig) ([]*target, error) {
	hops := strings.Split(proxy, ",")
	if len(hops) > maxJumps {
		return nil, fmt.Errorf("resolve proxy %q: more than %d jump hosts", proxy, maxJumps)
	}
	jumpOpts := opts
	jumpOpts.User, jumpOpts.Port = "", 0
	var jumps []*target
	for _, h := range hops {
		h = strings.TrimPrefix(strings.TrimSpace(h), "ssh://")
		if h == "" {
			return nil, fmt.Errorf("resolve proxy %q: empty jump host", proxy)
		}
		j, err := resolveHop(h, jumpOpts, cfg)
		if err != nil {
			return nil, fmt.Errorf("resolve jump host %s: %w", h, err)
		}
		jumps = append(jumps, j)
	}
	return jumps, nil
}

// hostConfig is the ssh config as it applies to one host alias.
type hostConfig struct {
	cfg   sshConfig
	alias string
}

// get returns key's value, trimmed; "" when unset.
func (h hostConfig) get(key string) string {
	v, _ := h.cfg.Get(h.alias, key) // errors only for invalid Include; treat as unset
	return strings.TrimSpace(v)
}

// getAll returns every value of a repeatable key such as IdentityFile.
func (h hostConfig) getAll(key string) []string {
	v, _ := h.cfg.GetAll(h.alias, key) // errors only for invalid Include; treat as unset
	return v
}

// resolveHop resolves one host without its jumps: what to dial, as whom,
// with which keys, checked against which known_hosts.
func resolveHop(host string, opts Options, cfg sshConfig) (*target, error) {
	user, alias, port, err := splitHostSpec(host)
	if err != nil {
		return nil, err
	}
	hc := hostConfig{cfg: cfg, alias: alias}
	t := &target{Alias: alias, HostName: alias}
	if hn := hc.get("HostName"); hn != "" {
		t.HostName = expandTokens(hn, alias, "", "", 0)
	}
	if t.Port, err = hopPort(port, opts, hc); err != nil {
		return nil, err
	}
	t.User = hopUser(user, opts, hc)
	t.HostKeyAlias = hc.get("HostKeyAlias")
	t.KeysOnly = opts.KeysOnly || strings.EqualFold(hc.get("IdentitiesOnly"), "yes")
	shkc := strings.ToLower(hc.get("StrictHostKeyChecking"))
	t.AcceptNew = opts.AcceptNewHostKeys || shkc == "accept-new" || shkc == "no" || shkc == "off"
	if t.KeyFiles, err = t.keyFiles(opts, hc); err != nil {
		return nil, err
	}
	t.explicitKeyset = len(t.KeyFiles) > 0
	if !t.explicitKeyset {
		if t.KeyFiles, err = defaultKeyFiles(); err != nil {
			return nil, err
		}
	}
	if t.KnownHosts, err = t.knownHostsFiles(opts, hc); err != nil {
		return nil, err
	}
	if t.AgentSocket, err = agentSocket(opts, hc); err != nil {
		return nil, err
	}
	t.KeyData = opts.KeyData
	return t, nil
}

// hopPort picks the port: host spec, then ssh.port, then the ssh config.
func hopPort(specPort int, opts Options, hc hostConfig) (int, error) {
	switch {
	case specPort != 0:
		return specPort, nil
	case opts.Port != 0:
		return opts.Port, nil
	}
	p := hc.get("Port")
	if p == "" {
		return DefaultPort, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return 0, fmt.Errorf("ssh config: bad Port %q for %s", p, hc.alias)
	}
	return n, nil
}

// hopUser picks the user: host spec, then ssh.user, then the ssh config.
func hopUser(specUser string, opts Options, hc hostConfig) string {
	switch {
	case specUser != "":
		return specUser
	case opts.User != "":
		return opts.User
	case hc.get("User") != "":
		return hc.get("User")
	}
	return DefaultUser
}

// keyFiles lists the keys named by ssh.keys, then the config's IdentityFile
// entries; none named means the defaults apply.
func (t *target) keyFiles(opts Options, hc hostConfig) ([]string, error) {
	var files []string
	for _, k := range opts.KeyFiles {
		p, err := t.expandPath(k)
		if err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	for _, k := range hc.getAll("IdentityFile") {
		if strings.EqualFold(k, "none") {
			continue
		}
		p, err := t.expandPath(k)
		if err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	return files, nil
}

// defaultKeyFiles lists the DefaultKeyFiles that exist, as OpenSSH tries them.
func defaultKeyFiles() ([]string, error) {
	var files []string
	for _, k := range DefaultKeyFiles {
		p, err := expandHome(k)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	return files, nil
}

// knownHostsFiles lists the known_hosts files to check: the configured ones,
// or the user's and (when present) the system-wide file.
func (t *target) knownHostsFiles(opts Options, hc hostConfig) ([]string, error) {
	khs := opts.KnownHostsFiles
	if len(khs) == 0 {
		if v := hc.get("UserKnownHostsFile"); v != "" {
			khs = strings.Fields(v)
		} else {
			khs = []string{DefaultKnownHosts}
		}
		if _, err := os.Stat(GlobalKnownHosts); err == nil {
			khs = append(khs, GlobalKnownHosts)
		}
	}
	var files []string
	for _, k := range khs {
		p, err := t.expandPath(k)
		if err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	return files, nil
}

// agentSocket picks the ssh-agent socket: ssh.agent, then the config's
// IdentityAgent, then $SSH_AUTH_SOCK. "none" means no agent.
func agentSocket(opts Options, hc hostConfig) (string, error) {
	var sock string
	switch ia := hc.get("IdentityAgent"); {
	case opts.AgentSocket != "":
		sock = opts.AgentSocket
	case ia != "" && ia != "SSH_AUTH_SOCK":
		sock = ia
	default:
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock == "" || sock == "none" {
		return sock, nil
	}
	return expandHome(sock)
}

// expandPath expands the OpenSSH tokens for t, then a leading "~/".
func (t *target) expandPath(p string) (string, error) {
	return expandHome(expandTokens(p, t.Alias, t.HostName, t.User, t.Port))
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

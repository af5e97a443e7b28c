package transport

import (
	"context"
	"log/slog"
	"time"
)

// Defaults for Options, applied by Options.withDefaults.
const (
	DefaultUser           = "root" // Kamal's default ssh.user
	DefaultPort           = 22
	DefaultConnectTimeout = 30 * time.Second
	// A host that sends nothing for DefaultKeepaliveMax keepalive intervals
	// is lost: about 6 s, so a host cut off mid-deploy is given up on within
	// 10 s (a busy host still sends window updates, so it is not silent).
	DefaultKeepalive    = 2 * time.Second
	DefaultKeepaliveMax = 3 // missed keepalives before the connection is closed
	DefaultMaxParallel  = 16
	DefaultMaxSessions  = 8 // below OpenSSH's MaxSessions (10)
	DefaultConfigFile   = "~/.ssh/config"
	DefaultKnownHosts   = "~/.ssh/known_hosts"
	GlobalKnownHosts    = "/etc/ssh/ssh_known_hosts"
)

// DefaultKeyFiles are tried, when they exist, if neither Options.KeyFiles nor
// the ssh config name an IdentityFile.
var DefaultKeyFiles = []string{"~/.ssh/id_ed25519", "~/.ssh/id_rsa", "~/.ssh/id_ecdsa"}

// Options configure how hosts are reached. Explicit fields (from deploy.yml's
// `ssh:` section or flags) win over the ssh config file, which wins over the
// defaults, as with OpenSSH's command line.
type Options struct {
	// User to log in as. Empty: the ssh config's User, else DefaultUser.
	User string
	// Port to connect to. Zero: the ssh config's Port, else DefaultPort.
	Port int
	// KeyFiles are private key files (Kamal's ssh.keys), tried after the
	// agent's keys, before the ssh config's IdentityFile entries.
	KeyFiles []string
	// KeysOnly uses only KeyFiles and IdentityFile keys, not every key the
	// agent holds (Kamal's ssh.keys_only, OpenSSH's IdentitiesOnly).
	KeysOnly bool
	// Proxy is a jump host chain, "[user@]host[:port]" separated by commas
	// (Kamal's ssh.proxy, OpenSSH's ProxyJump). Empty: the ssh config's
	// ProxyJump, else its ProxyCommand. "none" disables jumping even if the
	// config sets one.
	Proxy string
	// ProxyCommand is a command whose stdin/stdout reach the host (Kamal's
	// ssh.proxy_command), with %h %p %r %n expanded. Used when Proxy is
	// empty; wins over the ssh config's ProxyJump and ProxyCommand.
	ProxyCommand string
	// ConfigFile is the ssh config to read. Empty: DefaultConfigFile (missing
	// is fine). "none" reads no config.
	ConfigFile string
	// ConfigFiles are more ssh configs read after ConfigFile (Kamal's
	// ssh.config list); for each setting the first file that has it wins.
	// Set ConfigFile to "none" to read only these.
	ConfigFiles []string
	// KnownHostsFiles are the known_hosts files to check. Empty: the ssh
	// config's UserKnownHostsFile, else DefaultKnownHosts, plus
	// GlobalKnownHosts when it exists. New keys go to the first file.
	KnownHostsFiles []string
	// AcceptNewHostKeys records the key of a host that is not yet in
	// known_hosts instead of refusing it. A changed key is always refused.
	AcceptNewHostKeys bool
	// AgentSocket is the ssh-agent socket. Empty: the ssh config's
	// IdentityAgent, else $SSH_AUTH_SOCK. "none" disables the agent.
	AgentSocket string
	// ConnectTimeout bounds TCP connect plus SSH handshake per hop.
	ConnectTimeout time.Duration
	// Keepalive is the interval of keepalive requests; a connection that
	// misses DefaultKeepaliveMax of them is closed. Negative disables.
	Keepalive time.Duration
	// MaxParallel bounds concurrent dials in a Pool and concurrent hosts in
	// Pool.Each.
	MaxParallel int
	// MaxConcurrentDials bounds concurrent dials (SSH handshakes) in a
	// Pool, below MaxParallel (Kamal's sshkit.max_concurrent_starts);
	// 0 leaves MaxParallel as the bound.
	MaxConcurrentDials int
	// DNSRetries is how many times a Pool dials again when the host name
	// did not resolve (Kamal's sshkit.dns_retries); 0 does not retry.
	DNSRetries int
	// MaxSessions bounds concurrent command sessions (Run, Output, RunTTY) on one
	// connection.
	MaxSessions int
	// KeyData are private keys held in memory (Kamal's ssh.key_data, PEM
	// or OpenSSH format), offered with the key files on every hop. They
	// count as configured keys for KeysOnly.
	KeyData [][]byte
	// ForwardAgent forwards the ssh-agent to the host (not to jump hosts)
	// for every command, as Kamal's ssh.forward_agent (default true there,
	// sshkit's default). Without an agent there is nothing to forward.
	ForwardAgent bool
	// Logger receives the connection's progress (dial, hops, auth, agent
	// forwarding) at debug and info, and its failures at warn and error;
	// nil logs nothing (Kamal's default ssh.log_level, fatal). Key material
	// is never logged.
	Logger *slog.Logger
	// BeforeConnect runs once, before a Pool's first dial (Kamal's
	// pre-connect hook); its error fails that dial and every later one.
	BeforeConnect func(ctx context.Context) error
}

// handshakeSilence is how long a host being dialled may owe an answer: as
// long as an open connection may stay silent (about 6 s by default), so a
// host cut off is given up on within 10 s whether it was connected yet or
// not. A healthy sshd answers each handshake step within milliseconds.
func (o Options) handshakeSilence() time.Duration {
	if o.Keepalive <= 0 {
		return 0
	}
	return time.Duration(DefaultKeepaliveMax) * o.Keepalive
}

func (o Options) withDefaults() Options {
	if o.ConfigFile == "" {
		o.ConfigFile = DefaultConfigFile
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Keepalive == 0 {
		o.Keepalive = DefaultKeepalive
	}
	if o.MaxParallel <= 0 {
		o.MaxParallel = DefaultMaxParallel
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.MaxConcurrentDials <= 0 || o.MaxConcurrentDials > o.MaxParallel {
		o.MaxConcurrentDials = o.MaxParallel
	}
	return o
}

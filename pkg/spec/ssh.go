package spec

// The ssh and sshkit sections: how hosts are reached.

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// SSH is how hosts are reached.
type SSH struct {
	User         string `yaml:"user"`
	Port         int    `yaml:"port"`
	Proxy        string `yaml:"proxy,omitempty"`
	ProxyCommand string `yaml:"proxy_command,omitempty"`
	LogLevel     string `yaml:"log_level,omitempty"`
	KeysOnly     bool   `yaml:"keys_only,omitempty"`
	// Keys are private key files.
	Keys []string `yaml:"keys,omitempty"`
	// KeyData are resolved private keys (from secrets). Never marshalled.
	KeyData []string `yaml:"-"`
	// Config: nil means the default OpenSSH config files; an empty
	// non-nil list means none; otherwise these files.
	Config       []string `yaml:"config,omitempty"`
	ForwardAgent *bool    `yaml:"forward_agent,omitempty"`
}

// SSHKit holds connection pool tunables.
type SSHKit struct {
	MaxConcurrentStarts int `yaml:"max_concurrent_starts,omitempty" kamal:"max_concurrent_starts"`
	PoolIdleTimeout     int `yaml:"pool_idle_timeout,omitempty" kamal:"pool_idle_timeout"`
	DNSRetries          int `yaml:"dns_retries,omitempty" kamal:"dns_retries"`
}

// ssh normalises the ssh and sshkit sections. key_data entries that are not
// PEM blocks name secrets, resolved with the others.
func (b *builder) ssh() error {
	c := b.c
	c.SSH = SSH{User: DefaultSSHUser, Port: DefaultSSHPort}
	c.SSHKit = b.raw.SSHKit
	s := b.raw.SSH
	if s == nil {
		return nil
	}
	c.SSH.User = firstNonEmpty(s.User, DefaultSSHUser)
	if s.Port != nil {
		if *s.Port < 1 || *s.Port > 65535 {
			return b.t.errAt(mapGet(mapGet(b.root, "ssh"), "port"), "ssh.port", "must be a port number, got %d", *s.Port)
		}
		c.SSH.Port = *s.Port
	}
	c.SSH.Proxy, c.SSH.ProxyCommand = s.Proxy, s.ProxyCommand
	if s.LogLevel != "" {
		lvl, ok := sshLogLevel(s.LogLevel)
		if !ok {
			return b.t.errAt(mapGet(mapGet(b.root, "ssh"), "log_level"), "ssh.log_level", "must be one of %s (a Ruby Logger level), got %q", strings.Join(SSHLogLevels, ", "), s.LogLevel)
		}
		c.SSH.LogLevel = lvl
	}
	c.SSH.KeysOnly, c.SSH.Keys, c.SSH.ForwardAgent = s.KeysOnly, s.Keys, s.ForwardAgent
	for i, kd := range s.KeyData {
		if strings.HasPrefix(strings.TrimSpace(kd), "-----BEGIN") {
			c.SSH.KeyData = append(c.SSH.KeyData, kd)
			continue
		}
		b.needs = append(b.needs, secretNeed{name: kd, node: mapGet(mapGet(b.root, "ssh"), "key_data"), path: fmt.Sprintf("ssh.key_data[%d]", i)})
		c.SSH.KeyData = append(c.SSH.KeyData, "<secret "+kd+">")
	}
	return b.sshConfig(s.Config)
}

// sshConfig reads ssh.config: true keeps OpenSSH's default files, false
// reads none, anything else names the files.
func (b *builder) sshConfig(n *yaml.Node) error {
	switch {
	case isNull(n):
	case n.Kind == yaml.ScalarNode && n.Value == "true":
	case n.Kind == yaml.ScalarNode && n.Value == "false":
		b.c.SSH.Config = []string{}
	default:
		var l stringOrList
		if err := l.unmarshalNode(b.d, n, "ssh.config"); err != nil {
			return err
		}
		b.c.SSH.Config = l
	}
	return nil
}

// SSHLogLevels are the Ruby Logger levels Kamal's ssh.log_level takes,
// quietest last; "fatal" (Kamal's default) logs nothing we emit.
var SSHLogLevels = []string{"debug", "info", "warn", "error", "fatal", "unknown"}

// sshLogLevel reads a Logger level as Ruby's Logger#level= does: a name in
// any case (":debug" as YAML symbol too) or its number, 0 (debug) to 5.
func sshLogLevel(v string) (string, bool) {
	v = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(v), ":"))
	for i, l := range SSHLogLevels {
		if v == l || v == strconv.Itoa(i) {
			return l, true
		}
	}
	return "", false
}

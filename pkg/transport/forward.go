package transport

// Agent forwarding (Kamal's ssh.forward_agent) and the connection log
// (Kamal's ssh.log_level).

import (
	"log/slog"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// logger is opts.Logger, or one that drops everything.
func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// forwardAgent makes client answer the host's agent requests from the local
// agent of t, when there is one. It reports whether forwarding is on.
func forwardAgent(client *ssh.Client, t *target, log *slog.Logger) bool {
	if t.AgentSocket == "" || t.AgentSocket == "none" {
		log.Debug("ssh agent forwarding skipped: no ssh-agent", "host", t.Alias)
		return false
	}
	if err := agent.ForwardToRemote(client, t.AgentSocket); err != nil {
		log.Warn("ssh agent forwarding unavailable", "host", t.Alias, "err", err)
		return false
	}
	return true
}

// requestForwarding asks the host to forward the agent for sess. A host
// that refuses (AllowAgentForwarding no) still runs the command, as with
// OpenSSH, and says so once.
func (c *Conn) requestForwarding(sess *ssh.Session) {
	if err := agent.RequestAgentForwarding(sess); err != nil {
		c.refusedOnce.Do(func() {
			c.log.Warn("ssh agent forwarding refused by the host", "host", c.host, "err", err)
		})
	}
}

// Package transport reaches hosts over SSH for the plugin: one connection per
// host, reused for a whole command, authenticated with the user's ssh-agent
// and key files, configured by ~/.ssh/config, and checked strictly against
// known_hosts. Over it, it runs remote commands and forwards the sidecar's
// unix socket.
package transport

// Package clisocket watches the socket the Docker CLI opens for the plugin
// it runs. The CLI closes it when it is interrupted (when its output is not
// a terminal; on a terminal the plugin gets the Ctrl-C itself) or when it
// exits, so its closing is the plugin's cue to stop.
package clisocket

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// EnvKey names the socket's address in the plugin's environment, as the
// Docker CLI sets it (docker/cli's cli-plugins/socket.EnvKey).
const EnvKey = "DOCKER_CLI_PLUGIN_SOCKET"

// dialTimeout bounds the dial: the socket is local, so a slow dial means
// the CLI is stuck, not gone, and the plugin goes on without the watch.
const dialTimeout = 2 * time.Second

// Watch calls cancel once the CLI's end of the socket is closed. Unlike
// docker/cli's ConnectAndWait it also cancels when the CLI closed the
// socket before the plugin could dial it: a Ctrl-C during the plugin's
// first milliseconds reaches the CLI, which closes the socket, while the
// plugin is still starting; going on would deploy after the user asked to
// stop. Without the variable (run outside the CLI) it does nothing.
func Watch(cancel func()) {
	addr, ok := os.LookupEnv(EnvKey)
	if !ok || addr == "" {
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), dialTimeout)
	defer stop()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", addr)
	if err != nil {
		if closedByCLI(err) {
			cancel()
		}
		return
	}
	go func() {
		b := make([]byte, 1)
		// The CLI never writes: any read's end is the socket's end.
		for {
			if _, err := conn.Read(b); err != nil {
				_ = conn.Close()
				cancel()
				return
			}
		}
	}()
}

// closedByCLI reports whether a dial failed because nobody listens at the
// address any more, as after the CLI closed its server.
func closedByCLI(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist)
}

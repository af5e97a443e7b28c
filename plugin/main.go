// Command docker-kamal is the `docker kamal` Docker CLI plugin.
package main

import (
	"context"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/docker/cli/cli-plugins/socket"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/configcmd"
	"github.com/dockerkamal/docker-kamal/pkg/doctorcmd"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
)

// program is the whole command tree: the fleet's commands, then the local
// ones, with the config's aliases.
func program() cmdline.Program {
	return cmdline.Program{
		Commands: slices.Concat(fleetcmd.Commands(), configcmd.Commands(), doctorcmd.Commands()),
		Aliases:  configcmd.Aliases,
	}
}

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	watched, stop := cmdline.Interrupts{Signals: sigs, Stderr: os.Stderr, Exit: os.Exit}.Context(context.Background())
	// The Docker CLI closes its plugin socket when it exits or is
	// interrupted; treat that like Ctrl-C so hosts are left serving. It
	// only cancels: the watch goes on, so a second Ctrl-C still exits at
	// once even when the socket closed before the first signal arrived.
	ctx, cancel := context.WithCancel(watched)
	socket.ConnectAndWait(cancel)
	code := program().Run(ctx, os.Args, os.Stdout, os.Stderr)
	cancel()
	stop()
	os.Exit(code)
}

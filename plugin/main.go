// Command docker-kamal is the `docker kamal` Docker CLI plugin.
package main

import (
	"context"
	"os"
	"slices"

	"github.com/dockerkamal/docker-kamal/internal/clisocket"
	"github.com/dockerkamal/docker-kamal/internal/earlysignal"
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
	watched, stop := cmdline.Interrupts{Signals: earlysignal.C, Stderr: os.Stderr, Exit: os.Exit}.Context(context.Background())
	// The Docker CLI closes its plugin socket when it exits or is
	// interrupted; treat that like Ctrl-C so hosts are left serving. It
	// only cancels: the watch goes on, so a second Ctrl-C still exits at
	// once even when the socket closed before the first signal arrived.
	// The signals are caught from earlysignal's init on, well before
	// main: the plugin's package inits take tens of milliseconds.
	ctx, cancel := context.WithCancel(watched)
	clisocket.Watch(cancel)
	code := program().Run(ctx, os.Args, os.Stdout, os.Stderr)
	cancel()
	stop()
	os.Exit(code)
}

// Command docker-kamal is the `docker kamal` Docker CLI plugin.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/docker/cli/cli-plugins/socket"

	"github.com/dockerkamal/docker-kamal/pkg/cmdconfig"
	"github.com/dockerkamal/docker-kamal/pkg/cmddoctor"
	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/surface"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The Docker CLI closes its plugin socket when it exits or is
	// interrupted; treat that like Ctrl-C so hosts are left serving.
	socket.ConnectAndWait(stop)
	cmdconfig.Register()
	cmddoctor.Register() // after cmdconfig: wraps its init with --rails
	fleetcmd.Register()
	surface.Register()
	code := command.Main(ctx)
	stop()
	os.Exit(code)
}

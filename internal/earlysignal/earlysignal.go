// Package earlysignal catches Ctrl-C and SIGTERM from the first moments of
// the process: its init runs before the heavy package inits of the rest of
// the plugin (tens of milliseconds), during which an uncaught SIGINT would
// kill the plugin before main could install a handler.
package earlysignal

import (
	"os"
	"os/signal"
	"syscall"
)

// C receives the process's SIGINT and SIGTERM from init on.
var C = make(chan os.Signal, 2)

func init() {
	signal.Notify(C, os.Interrupt, syscall.SIGTERM)
}

package cmdline

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
)

// ExitInterrupted is the exit code of a command stopped by Ctrl-C, as a
// shell reports a process killed by SIGINT.
const ExitInterrupted = 130

// Interrupts turns the process's signals into a context: the first
// cancels it, so the command stops, releases the deploy lock and leaves
// every host serving; a second one exits at once through Exit. That is
// safe because a sidecar finishes or undoes an in-flight swap on its own
// when its client goes away; only the deploy lock may be left held.
type Interrupts struct {
	// Signals delivers the interrupts (signal.Notify's channel).
	Signals <-chan os.Signal
	// Stderr gets one line per interrupt.
	Stderr io.Writer
	// Exit ends the process (os.Exit).
	Exit func(code int)
}

// Context returns a context cancelled by the first interrupt or by stop,
// which also ends the watch.
func (in Interrupts) Context(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go in.watch(cancel, done)
	var once sync.Once
	// stop is called by main and by the plugin socket's watcher.
	return ctx, func() {
		cancel()
		once.Do(func() { close(done) })
	}
}

func (in Interrupts) watch(cancel context.CancelFunc, done <-chan struct{}) {
	select {
	case sig := <-in.Signals:
		_, _ = fmt.Fprintf(in.Stderr, "\n%v: stopping and leaving every host serving (interrupt again to exit at once)\n", sig)
		cancel()
	case <-done:
		return
	}
	select {
	case sig := <-in.Signals:
		_, _ = fmt.Fprintf(in.Stderr, "\n%v again: exiting now; each sidecar finishes or undoes its swap on its own, "+
			"so every host keeps serving (one caught mid-swap may be on either version until the next deploy). If the deploy lock is still held, free it with `docker kamal lock release`\n", sig)
		in.Exit(ExitInterrupted)
	case <-done:
	}
}

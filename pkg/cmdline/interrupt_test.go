package cmdline

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the watcher's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFirstInterruptCancelsSecondExitsAtOnce(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	var stderr syncBuffer
	ctx, stop := Interrupts{Signals: sigs, Stderr: &stderr, Exit: func(code int) { exited <- code }}.Context(context.Background())
	defer stop()

	sigs <- os.Interrupt
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first interrupt did not cancel the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("the first interrupt exited (%d); it must only cancel", code)
	default:
	}

	t0 := time.Now()
	sigs <- os.Interrupt
	select {
	case code := <-exited:
		if code != ExitInterrupted {
			t.Errorf("exit code %d, want %d", code, ExitInterrupted)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the second interrupt did not exit within 3 s")
	}
	t.Logf("second interrupt to exit: %s", time.Since(t0))
	if out := stderr.String(); !strings.Contains(out, "interrupt again to exit at once") || !strings.Contains(out, "lock release") {
		t.Errorf("stderr does not explain the interrupts:\n%s", out)
	}
}

func TestStopCancelsAndMayBeCalledTwice(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	ctx, stop := Interrupts{Signals: sigs, Stderr: &syncBuffer{}, Exit: func(code int) { exited <- code }}.Context(context.Background())
	stop()
	stop() // main and the plugin socket both call it
	if ctx.Err() == nil {
		t.Fatal("stop did not cancel the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("exited with %d without an interrupt", code)
	default:
	}
}

package clisocket

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// listen is a stand-in for the CLI's plugin server on an abstract socket,
// as the CLI uses on Linux.
func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("unix", fmt.Sprintf("@docker-kamal-test-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func waitCancel(t *testing.T, cancelled <-chan struct{}, want bool) {
	t.Helper()
	select {
	case <-cancelled:
		if !want {
			t.Fatal("cancelled while the CLI's socket was open")
		}
	case <-time.After(2 * time.Second):
		if want {
			t.Fatal("not cancelled within 2 s")
		}
	}
}

func canceller() (func(), <-chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }, ch
}

func TestCancelsWhenTheCLIClosesItsEnd(t *testing.T) {
	l := listen(t)
	t.Setenv(EnvKey, l.Addr().String())
	cancel, cancelled := canceller()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	Watch(cancel)
	c := <-accepted
	waitCancel(t, cancelled, false)
	_ = c.Close()
	waitCancel(t, cancelled, true)
}

func TestCancelsWhenTheCLIClosedBeforeTheDial(t *testing.T) {
	l := listen(t)
	t.Setenv(EnvKey, l.Addr().String())
	_ = l.Close()
	cancel, cancelled := canceller()
	Watch(cancel)
	waitCancel(t, cancelled, true)
}

func TestNoSocketNoWatch(t *testing.T) {
	t.Setenv(EnvKey, "")
	cancel, cancelled := canceller()
	Watch(cancel)
	waitCancel(t, cancelled, false)
}

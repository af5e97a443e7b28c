package e2e

import (
	"fmt"
	"testing"
	"time"
)

// waitPoll is how often the waits below re-check their condition.
const waitPoll = 100 * time.Millisecond

// waitUntil polls ok until it holds and fails the test with msg() once d
// has passed: every e2e wait for a condition goes through here.
func waitUntil(t testing.TB, d time.Duration, ok func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(waitPoll)
	}
}

// waitFor is waitUntil with a fixed description of what it waits for.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	waitUntil(t, timeout, cond, func() string { return fmt.Sprintf("timed out after %v waiting for %s", timeout, what) })
}

package chaos

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// line is one output line and when it arrived.
type line struct {
	At   time.Time
	Text string
}

// command is a `docker kamal` run in its own process group, as a terminal
// runs it, so Ctrl-C can go to the whole group.
type command struct {
	Args  []string
	Start time.Time
	End   time.Time
	Exit  int
	Err   error // not an exit status: could not run, or timed out

	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	out  []line
}

// startCommand starts `docker kamal args...` in dir with DOCKER_CONFIG and env.
func startCommand(ctx context.Context, dir, dockerConfig string, env []string, args ...string) (*command, error) {
	c := &command{Args: args, done: make(chan struct{})}
	c.cmd = exec.Command("docker", append([]string{"kamal"}, args...)...)
	c.cmd.Dir = dir
	c.cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+dockerConfig), env...)
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	c.cmd.Stdout, c.cmd.Stderr = pw, pw
	c.Start = time.Now()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start docker kamal %s: %w", strings.Join(args, " "), err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			c.mu.Lock()
			c.out = append(c.out, line{At: time.Now(), Text: sc.Text()})
			c.mu.Unlock()
		}
		io.Copy(io.Discard, pr) //nolint:errcheck // drain after an over-long line
	}()
	go func() {
		err := c.cmd.Wait()
		c.End = time.Now()
		pw.Close()
		<-read
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			c.Exit = ee.ExitCode()
			if ee.ExitCode() < 0 { // killed by a signal
				c.Exit = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
			}
		case err != nil:
			c.Err = err
		}
		close(c.done)
	}()
	go func() {
		select {
		case <-c.done:
		case <-ctx.Done():
			c.signal(syscall.SIGKILL)
		}
	}()
	return c, nil
}

// running reports whether the command has not ended.
func (c *command) running() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the command's whole process group.
func (c *command) signal(sig syscall.Signal) error {
	return syscall.Kill(-c.cmd.Process.Pid, sig)
}

// killPlugin sends SIGKILL to the docker-kamal process the docker CLI runs
// (the plugin alone, as an OOM kill or a crash would end it).
func (c *command) killPlugin() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := exec.Command("pgrep", "-P", strconv.Itoa(c.cmd.Process.Pid), "-x", "docker-kamal").Output()
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && pid > 0 {
			return syscall.Kill(pid, syscall.SIGKILL)
		}
		if !c.running() || time.Now().After(deadline) {
			return fmt.Errorf("no docker-kamal process under the docker CLI (pid %d)", c.cmd.Process.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the end of the command, at most d; then it kills the
// process group and reports a hang.
func (c *command) wait(d time.Duration) error {
	select {
	case <-c.done:
		return c.Err
	case <-time.After(d):
		c.signal(syscall.SIGKILL) //nolint:errcheck // our own process group
		<-c.done
		return fmt.Errorf("docker kamal %s still running after %v: killed", strings.Join(c.Args, " "), d)
	}
}

// lines are the output so far.
func (c *command) lines() []line {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]line(nil), c.out...)
}

// firstAfter is the first line at or after t containing any of subs.
func (c *command) firstAfter(t time.Time, subs ...string) (time.Time, bool) {
	for _, l := range c.lines() {
		if l.At.Before(t) {
			continue
		}
		for _, s := range subs {
			if strings.Contains(l.Text, s) {
				return l.At, true
			}
		}
	}
	return time.Time{}, false
}

// output is every line, joined.
func (c *command) output() string {
	var b strings.Builder
	for _, l := range c.lines() {
		b.WriteString(l.Text + "\n")
	}
	return b.String()
}

// tail is the last n lines.
func (c *command) tail(n int) string {
	ls := c.lines()
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Text + "\n")
	}
	return b.String()
}

// log renders the command for the log directory.
func (c *command) log() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ docker kamal %s\n# started %s, took %v, exit %d, error %v\n", strings.Join(c.Args, " "),
		c.Start.Format(time.RFC3339Nano), c.End.Sub(c.Start), c.Exit, c.Err)
	for _, l := range c.lines() {
		fmt.Fprintf(&b, "%9.3f %s\n", l.At.Sub(c.Start).Seconds(), l.Text)
	}
	return b.String()
}

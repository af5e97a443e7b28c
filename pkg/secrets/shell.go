package secrets

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// Shell runs command with `sh -c` in dir and returns its stdout. Its stderr
// goes to ours (password managers prompt there); errors carry no output.
func Shell(ctx context.Context, dir, command string, env []string) (string, error) {
	c := exec.CommandContext(ctx, "sh", "-c", command)
	c.Dir = dir
	c.Env = env
	c.Stderr = os.Stderr
	var out limitedBuffer
	c.Stdout = &out
	// No process group of its own: password managers may prompt on the
	// terminal. On timeout sh is killed and WaitDelay closes the pipes
	// its children may still hold.
	c.WaitDelay = 2 * time.Second
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("timed out: %w", ctx.Err())
		}
		return "", err
	}
	if out.over {
		return "", fmt.Errorf("output larger than %d bytes", maxCommandOutput)
	}
	return out.String(), nil
}

type limitedBuffer struct {
	bytes.Buffer
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.Len()+len(p) > maxCommandOutput {
		l.over = true
		return len(p), nil
	}
	return l.Buffer.Write(p)
}

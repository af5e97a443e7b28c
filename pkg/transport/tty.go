package transport

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// RunTTY runs cmd interactively: it asks the host for a terminal and, when in
// is a terminal, puts it in raw mode until the command ends (for `app exec
// -i`, consoles, shells). Window size follows the local terminal at start.
func (c *Conn) RunTTY(ctx context.Context, cmd string, in *os.File, out, errOut io.Writer) error {
	req := &ptyRequest{term: os.Getenv("TERM"), width: 80, height: 24}
	if req.term == "" {
		req.term = "xterm-256color"
	}
	if in != nil && term.IsTerminal(int(in.Fd())) {
		if w, h, err := term.GetSize(int(in.Fd())); err == nil {
			req.width, req.height = w, h
		}
		state, err := term.MakeRaw(int(in.Fd()))
		if err != nil {
			return fmt.Errorf("set terminal raw: %w", err)
		}
		defer func() { _ = term.Restore(int(in.Fd()), state) }()
	}
	var stdin io.Reader
	if in != nil {
		stdin = in
	}
	return c.run(ctx, cmd, stdin, out, errOut, req)
}

package surface

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Kamal's default log tails.
const (
	defaultLogLines       = 100
	defaultFollowLogLines = 10
)

// logsOptions are the flags of every `logs` command.
type logsOptions struct {
	Follow         bool
	Lines          int // 0: the default
	Since          string
	Grep           string
	GrepOptions    string
	SkipTimestamps bool
}

func logsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow the logs until Ctrl-C"},
		&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Usage: "number of lines to show from each host (default 100, 10 with --follow)"},
		&cli.StringFlag{Name: "since", Aliases: []string{"s"}, Usage: "show lines since a timestamp (2013-01-02T13:23:37Z) or relative (42m)"},
		&cli.StringFlag{Name: "grep", Aliases: []string{"g"}, Usage: "show only lines matching this grep pattern"},
		&cli.StringFlag{Name: "grep-options", Usage: "extra grep options, e.g. -i"},
		&cli.BoolFlag{Name: "skip-timestamps", Aliases: []string{"T"}, Usage: "do not prefix lines with docker's timestamps"},
	}
}

func logsOptionsFrom(c *cli.Context) logsOptions {
	return logsOptions{
		Follow: c.Bool("follow"), Lines: c.Int("lines"), Since: c.String("since"),
		Grep: c.String("grep"), GrepOptions: c.String("grep-options"), SkipTimestamps: c.Bool("skip-timestamps"),
	}
}

// logsCommand is the remote shell line printing a container's logs.
func logsCommand(containerName string, o logsOptions) string {
	args := []string{"docker", "logs"}
	if !o.SkipTimestamps {
		args = append(args, "--timestamps")
	}
	lines := o.Lines
	if lines == 0 {
		switch {
		case o.Follow:
			lines = defaultFollowLogLines
		case o.Since == "" && o.Grep == "":
			lines = defaultLogLines
		}
	}
	if lines > 0 {
		args = append(args, "--tail", strconv.Itoa(lines))
	}
	if o.Since != "" {
		args = append(args, "--since", o.Since)
	}
	if o.Follow {
		args = append(args, "--follow")
	}
	cmd := transport.Quote(append(args, containerName)...) + " 2>&1"
	if o.Grep != "" {
		grep := "grep --line-buffered"
		if o.GrepOptions != "" {
			grep += " " + o.GrepOptions
		}
		// grep exits 1 when nothing matched: that is not an error here.
		cmd += " | " + grep + " -e " + transport.Quote(o.Grep) + "; test $? -le 1"
	}
	return cmd
}

// logSource is one container on one host whose logs are streamed.
type logSource struct {
	Host, Container, Prefix string
}

// streamLogs runs each source's logs command in parallel, every line
// prefixed with its source. With --follow it runs until ctx ends
// (Ctrl-C), which is not an error.
func streamLogs(ctx context.Context, s *fleetcmd.Session, srcs []logSource, o logsOptions) error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(srcs))
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := s.Pool.Get(ctx, src.Host)
			if err != nil {
				errs[i] = err
				return
			}
			w := &prefixWriter{mu: &mu, w: s.G.Stdout, prefix: src.Prefix + " | "}
			err = conn.Run(ctx, logsCommand(src.Container, o), nil, w, w)
			_ = w.Flush()
			if err != nil && !(o.Follow && ctx.Err() != nil) {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	if o.Follow && ctx.Err() != nil {
		return nil
	}
	return errors.Join(errs...)
}

func registerAppLogs() {
	command.RegisterFlags("app logs", logsFlags()...)
	command.Register("app logs", handler(runAppLogs))
}

func runAppLogs(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	sel, err := s.Cfg.Select(s.Filter())
	if err != nil {
		return err
	}
	var srcs []logSource
	for _, r := range sel.Roles {
		for _, h := range sel.Hosts[r.Name] {
			conn, err := s.Pool.Get(ctx, h)
			if err != nil {
				return err
			}
			cs, err := listContainers(ctx, conn, s.Cfg.Service, s.Cfg.Destination, r.Name)
			if err != nil {
				return err
			}
			cur, ok := current(cs)
			if !ok {
				s.Out.Error("%s: no %s container", h, r.Name)
				continue
			}
			prefix := h
			if len(sel.Roles) > 1 {
				prefix += " " + r.Name
			}
			srcs = append(srcs, logSource{Host: h, Container: cur.Name, Prefix: prefix})
		}
	}
	if len(srcs) == 0 {
		return errors.New("app logs: no app container on the selected hosts")
	}
	return streamLogs(ctx, s, srcs, logsOptionsFrom(c))
}

// padRight pads s to n runes.
func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

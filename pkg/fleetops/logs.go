package fleetops

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// Kamal's default log tails.
const (
	defaultLogLines       = 100
	defaultFollowLogLines = 10
)

// LogsOptions are the flags of every `logs` command.
type LogsOptions struct {
	Follow         bool
	Lines          int // 0: the default
	Since          string
	Grep           string
	GrepOptions    string
	SkipTimestamps bool
}

// logsCommand is the remote shell line printing a container's logs.
func logsCommand(containerName string, o LogsOptions) string {
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
func (s *Session) streamLogs(ctx context.Context, srcs []logSource, o LogsOptions) error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(srcs))
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := s.pool.Get(ctx, src.Host)
			if err != nil {
				errs[i] = err
				return
			}
			w := &prefixWriter{mu: &mu, w: s.Opts.Stdout, prefix: src.Prefix + " | "}
			err = conn.Run(ctx, logsCommand(src.Container, o), nil, w, w)
			if ferr := w.Flush(); err == nil {
				err = ferr
			}
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

// AppLogs streams the log lines of each selected role's current container
// on each selected host, every line prefixed with its host (and role).
func (s *Session) AppLogs(ctx context.Context, o LogsOptions) error {
	sel, err := s.Cfg.Select(s.Opts.Filter)
	if err != nil {
		return err
	}
	var srcs []logSource
	for _, r := range sel.Roles {
		for _, h := range sel.Hosts[r.Name] {
			conn, err := s.pool.Get(ctx, h)
			if err != nil {
				return err
			}
			cs, err := listContainers(ctx, conn, s.Cfg.Service, s.Cfg.Destination, r.Name)
			if err != nil {
				return err
			}
			cur, ok := current(cs)
			if !ok {
				s.out.Error("%s: no %s container", h, r.Name)
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
	return s.streamLogs(ctx, srcs, o)
}

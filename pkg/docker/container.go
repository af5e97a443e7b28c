package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Container states, as the engine reports them.
const (
	StateCreated    = "created"
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateExited     = "exited"
	StateDead       = "dead"
)

// Health statuses of a container with a HEALTHCHECK; HealthNone when the
// container has none.
const (
	HealthNone      = ""
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// ContainerSpec is what Create needs. Option strings use docker run syntax.
type ContainerSpec struct {
	Name       string
	Image      string
	Cmd        []string
	Entrypoint []string
	// Env in KEY=value form.
	Env    []string
	Labels map[string]string
	// Network to attach at creation, with extra DNS aliases on it.
	Network string
	Aliases []string
	// Memory ("512m"), CPUs ("1.5").
	Memory string
	CPUs   string
	// Volumes in -v syntax: "/host:/ctr[:ro]" or "name:/ctr".
	Volumes []string
	// Ports in -p syntax: "80:80", "127.0.0.1:9321:9321", "443:443/tcp".
	Ports []string
	// Restart policy in --restart syntax: "no", "always", "unless-stopped",
	// "on-failure[:N]".
	Restart   string
	LogDriver string
	LogOpts   map[string]string
	// Extra are further docker run options by name without dashes
	// (contract.ExtraOptions).
	Extra map[string][]string
	// StopTimeout is the container's default stop timeout; 0 leaves the
	// engine default.
	StopTimeout time.Duration
	User        string
}

// Container is what the swap needs to know about one container.
type Container struct {
	ID      string
	Name    string // without the leading slash
	Image   string
	ImageID string
	Labels  map[string]string
	State   string // StateRunning, StateExited, ...
	Health  string // HealthNone, HealthStarting, ...
	Created time.Time
	// StartedAt and FinishedAt are zero when unknown (List does not fill them).
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int
	// Pid is the main process's PID in the engine's PID namespace while the
	// container runs, else 0 (Inspect only).
	Pid int
	// IPs maps network name to the container's IPv4 address on it (Inspect
	// only; List fills it too when the engine reports it).
	IPs map[string]string
}

// Running reports whether the container's process is up.
func (c Container) Running() bool { return c.State == StateRunning }

// Create creates (but does not start) a container and returns its ID.
func (c *Client) Create(ctx context.Context, s ContainerSpec) (string, error) {
	cfg, hc, nc, err := s.toAPI()
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", s.Name, err)
	}
	res, err := c.api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: s.Name, Config: cfg, HostConfig: hc, NetworkingConfig: nc,
	})
	if err != nil {
		return "", wrap("create container "+s.Name, err)
	}
	return res.ID, nil
}

// Start starts a created or stopped container.
func (c *Client) Start(ctx context.Context, id string) error {
	_, err := c.api.ContainerStart(ctx, id, client.ContainerStartOptions{})
	return wrap("start container "+id, err)
}

// Stop sends SIGTERM (or the image's stop signal) and SIGKILL after timeout.
// A negative timeout uses the container's own default.
func (c *Client) Stop(ctx context.Context, id string, timeout time.Duration) error {
	opts := client.ContainerStopOptions{}
	if timeout >= 0 {
		secs := int((timeout + time.Second - 1) / time.Second)
		opts.Timeout = &secs
	}
	_, err := c.api.ContainerStop(ctx, id, opts)
	return wrap("stop container "+id, err)
}

// Rename renames a container.
func (c *Client) Rename(ctx context.Context, id, name string) error {
	_, err := c.api.ContainerRename(ctx, id, client.ContainerRenameOptions{NewName: name})
	return wrap("rename container "+id, err)
}

// Remove removes a container (force kills a running one) and its anonymous
// volumes.
func (c *Client) Remove(ctx context.Context, id string, force bool) error {
	_, err := c.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: force, RemoveVolumes: true})
	return wrap("remove container "+id, err)
}

// Inspect returns one container by ID or name.
func (c *Client) Inspect(ctx context.Context, id string) (Container, error) {
	res, err := c.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return Container{}, wrap("inspect container "+id, err)
	}
	r := res.Container
	out := Container{
		ID:    r.ID,
		Name:  strings.TrimPrefix(r.Name, "/"),
		Image: "",
		IPs:   map[string]string{},
	}
	out.ImageID = r.Image
	out.Created = parseTime(r.Created)
	if r.Config != nil {
		out.Image = r.Config.Image
		out.Labels = r.Config.Labels
	}
	if st := r.State; st != nil {
		out.State = string(st.Status)
		out.StartedAt = parseTime(st.StartedAt)
		out.FinishedAt = parseTime(st.FinishedAt)
		out.ExitCode = st.ExitCode
		out.Pid = st.Pid
		if st.Health != nil {
			out.Health = string(st.Health.Status)
		}
	}
	if r.NetworkSettings != nil {
		for name, ep := range r.NetworkSettings.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				out.IPs[name] = ep.IPAddress.String()
			}
		}
	}
	return out, nil
}

// List returns containers (running and stopped when all) carrying every
// label in labels (key=value; an empty value matches any value of the key).
func (c *Client) List(ctx context.Context, labels map[string]string, all bool) ([]Container, error) {
	f := client.Filters{}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if v := labels[k]; v != "" {
			f = f.Add("label", k+"="+v)
		} else {
			f = f.Add("label", k)
		}
	}
	res, err := c.api.ContainerList(ctx, client.ContainerListOptions{All: all, Filters: f})
	if err != nil {
		return nil, wrap("list containers", err)
	}
	out := make([]Container, 0, len(res.Items))
	for _, s := range res.Items {
		ct := Container{
			ID:      s.ID,
			Image:   s.Image,
			ImageID: s.ImageID,
			Labels:  s.Labels,
			State:   string(s.State),
			Created: time.Unix(s.Created, 0),
			IPs:     map[string]string{},
		}
		if len(s.Names) > 0 {
			ct.Name = strings.TrimPrefix(s.Names[0], "/")
		}
		if s.Health != nil {
			ct.Health = string(s.Health.Status)
			if ct.Health == "none" {
				ct.Health = HealthNone
			}
		}
		if s.NetworkSettings != nil {
			for name, ep := range s.NetworkSettings.Networks {
				if ep != nil && ep.IPAddress.IsValid() {
					ct.IPs[name] = ep.IPAddress.String()
				}
			}
		}
		out = append(out, ct)
	}
	return out, nil
}

// Logs returns the last tail lines of stdout and stderr, interleaved as the
// engine stored them (bounded to 1 MiB).
func (c *Client) Logs(ctx context.Context, id string, tail int) (string, error) {
	rc, err := c.api.ContainerLogs(ctx, id, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(tail),
	})
	if err != nil {
		return "", wrap("read logs of "+id, err)
	}
	// Read below to the limit: closing the stream cannot fail the read.
	defer func() { _ = rc.Close() }()
	var buf bytes.Buffer
	w := &limitWriter{w: &buf, n: maxLogBytes}
	// Containers without a TTY multiplex stdout/stderr; with a TTY the
	// stream is raw. Try the multiplexed form and fall back.
	raw, err := io.ReadAll(io.LimitReader(rc, maxLogBytes*2))
	if err != nil {
		return "", fmt.Errorf("read logs of %s: %w", id, err)
	}
	if _, err := stdcopy.StdCopy(w, w, bytes.NewReader(raw)); err != nil {
		return string(raw), nil
	}
	return buf.String(), nil
}

type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > l.n {
		p = p[:l.n]
	}
	l.n -= len(p)
	if _, err := l.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

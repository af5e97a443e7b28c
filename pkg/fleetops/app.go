package fleetops

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// hostContainers is one host's app containers.
type hostContainers struct {
	Host       string      `json:"host"`
	Containers []container `json:"containers"`
	Error      string      `json:"error,omitempty"`
}

// eachSelectedHost lists this service's containers of the selected roles
// on every selected host in parallel, in selection order.
func (s *Session) eachSelectedHost(ctx context.Context) ([]hostContainers, error) {
	sel, err := s.Cfg.Select(s.Opts.Filter)
	if err != nil {
		return nil, err
	}
	hosts := sel.AllHosts()
	roles := map[string]bool{}
	for _, r := range sel.Roles {
		roles[r.Name] = true
	}
	out := make([]hostContainers, len(hosts))
	idx := map[string]int{}
	for i, h := range hosts {
		idx[h] = i
		out[i].Host = h
	}
	err = s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
		cs, err := listContainers(ctx, c, s.Cfg.Service, s.Cfg.Destination, "")
		if err != nil {
			return err
		}
		var keep []container
		for _, ct := range cs {
			if roles[ct.Role] {
				keep = append(keep, ct)
			}
		}
		out[idx[c.Host()]].Containers = keep
		return nil
	})
	return out, err
}

// AppContainers prints the app containers of the selected roles on each
// selected host (as JSON with asJSON).
func (s *Session) AppContainers(ctx context.Context, asJSON bool) error {
	list, err := s.eachSelectedHost(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(s.Opts.Stdout, list)
	}
	rows := [][]string{{"HOST", "CONTAINER", "ROLE", "VERSION", "STATE", "STATUS"}}
	for _, h := range list {
		for _, ct := range h.Containers {
			rows = append(rows, []string{h.Host, ct.Name, ct.Role, ct.Version, ct.State, ct.Status})
		}
	}
	return writeTable(s.Opts.Stdout, rows)
}

// AppVersion prints the version each selected role runs on each host.
func (s *Session) AppVersion(ctx context.Context, asJSON bool) error {
	list, err := s.eachSelectedHost(ctx)
	if err != nil {
		return err
	}
	type hv struct {
		Host    string `json:"host"`
		Role    string `json:"role"`
		Version string `json:"version"`
	}
	var out []hv
	for _, h := range list {
		seen := map[string]bool{}
		for _, ct := range running(h.Containers) {
			if !seen[ct.Role] {
				seen[ct.Role] = true
				out = append(out, hv{h.Host, ct.Role, ct.Version})
			}
		}
	}
	if asJSON {
		return writeJSON(s.Opts.Stdout, out)
	}
	var b strings.Builder
	for _, v := range out {
		fmt.Fprintf(&b, "%s %s: %s\n", v.Host, v.Role, v.Version)
	}
	_, err = fmt.Fprint(s.Opts.Stdout, b.String())
	return err
}

// staleContainers are running containers of a role other than the live
// one (live "" means: all but the newest running).
func staleContainers(cs []container, live string) []container {
	var out []container
	run := running(cs)
	for i, c := range run {
		if live == "" && i == 0 || live != "" && c.Version == live {
			continue
		}
		out = append(out, c)
	}
	return out
}

// staleContainer is one container found by AppStaleContainers.
type staleContainer struct {
	Host      string `json:"host"`
	Role      string `json:"role"`
	Container string `json:"container"`
	Version   string `json:"version"`
	Stopped   bool   `json:"stopped,omitempty"`
}

// AppStaleContainers finds running app containers the sidecar does not
// route to, and stops them with stop.
func (s *Session) AppStaleContainers(ctx context.Context, stop, asJSON bool) error {
	targets, _, err := s.targets()
	if err != nil {
		return err
	}
	var found []staleContainer
	var errs []error
	for _, t := range targets {
		conn, err := s.pool.Get(ctx, t.Host)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs, err := listContainers(ctx, conn, s.Cfg.Service, s.Cfg.Destination, t.Role)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Without the sidecar's answer, the newest running one counts as live.
		live, _ := s.liveVersion(ctx, t)
		for _, ct := range staleContainers(cs, live) {
			st := staleContainer{Host: t.Host, Role: t.Role, Container: ct.Name, Version: ct.Version}
			if stop {
				if err := stopContainer(ctx, conn, ct.Name); err != nil {
					errs = append(errs, fmt.Errorf("stop %s on %s: %w", ct.Name, t.Host, err))
				} else {
					st.Stopped = true
				}
			}
			found = append(found, st)
		}
	}
	return errors.Join(append(errs, s.printStale(found, asJSON))...)
}

func stopContainer(ctx context.Context, conn *transport.Conn, name string) error {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	_, err := conn.Output(ctx, "docker stop "+transport.Quote(name))
	return err
}

func (s *Session) printStale(found []staleContainer, asJSON bool) error {
	if asJSON {
		return writeJSON(s.Opts.Stdout, found)
	}
	var b strings.Builder
	if len(found) == 0 {
		b.WriteString("No stale containers\n")
	}
	for _, st := range found {
		verb := "Detected stale container"
		if st.Stopped {
			verb = "Stopped stale container"
		}
		fmt.Fprintf(&b, "%s for role %s on %s: %s\n", verb, st.Role, st.Host, st.Container)
	}
	_, err := fmt.Fprint(s.Opts.Stdout, b.String())
	return err
}

// appImage is one app image on one host.
type appImage struct {
	Host  string `json:"host"`
	Image string `json:"image"`
	ID    string `json:"id"`
	Age   string `json:"created"`
	Size  string `json:"size"`
}

// AppImages prints the app's images on each selected host.
func (s *Session) AppImages(ctx context.Context, asJSON bool) error {
	hosts, err := s.selectedHosts()
	if err != nil {
		return err
	}
	cmd := "docker image ls --format " + transport.Quote(`{{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`) + " " + transport.Quote(s.imageRepo())
	var mu sync.Mutex
	byHost := map[string][]appImage{}
	err = s.eachHost(ctx, hosts, func(ctx context.Context, conn *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		out, err := conn.Output(ctx, cmd)
		if err != nil {
			return err
		}
		var list []appImage
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Split(line, "\t"); len(f) == 4 {
				list = append(list, appImage{conn.Host(), f[0], f[1], f[2], f[3]})
			}
		}
		mu.Lock()
		byHost[conn.Host()] = list
		mu.Unlock()
		return nil
	})
	var all []appImage
	for _, h := range hosts {
		all = append(all, byHost[h]...)
	}
	if asJSON {
		return errors.Join(err, writeJSON(s.Opts.Stdout, all))
	}
	rows := [][]string{{"HOST", "IMAGE", "ID", "CREATED", "SIZE"}}
	for _, i := range all {
		rows = append(rows, []string{i.Host, i.Image, i.ID, i.Age, i.Size})
	}
	return errors.Join(err, writeTable(s.Opts.Stdout, rows))
}

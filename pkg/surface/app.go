package surface

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleet"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

func registerAppCommands() {
	for _, p := range []string{"app containers", "app details", "app images", "app version", "app stale_containers"} {
		command.RegisterFlags(p, jsonFlag)
	}
	command.RegisterFlags("app stale_containers", &cli.BoolFlag{Name: "stop", Usage: "stop the stale containers found"})
	command.RegisterFlags("app remove", &cli.BoolFlag{Name: "confirmed", Aliases: []string{"y"}, Usage: "do not ask for confirmation"})
	command.RegisterFlags("app boot", &cli.DurationFlag{Name: "lock-wait", Usage: "wait up to this long for the deploy lock"})
	command.Register("app containers", handler(runAppContainers))
	command.Register("app details", handler(runAppContainers))
	command.Register("app images", handler(runAppImages))
	command.Register("app version", handler(runAppVersion))
	command.Register("app stale_containers", handler(runAppStale))
	command.Register("app start", handler(func(ctx context.Context, s *fleetcmd.Session, _ *cli.Context) error {
		return roleOp(ctx, s, "start")
	}))
	command.Register("app stop", handler(func(ctx context.Context, s *fleetcmd.Session, _ *cli.Context) error {
		return roleOp(ctx, s, "stop")
	}))
	command.Register("app boot", handler(runAppBoot))
	command.Register("app remove", handler(runAppRemove))
	registerMaintenance()
}

// hostContainers is one host's app containers.
type hostContainers struct {
	Host       string      `json:"host"`
	Containers []container `json:"containers"`
	Error      string      `json:"error,omitempty"`
}

// eachSelectedHost lists this service's containers on every selected host
// in parallel, in selection order.
func eachSelectedHost(ctx context.Context, s *fleetcmd.Session) ([]hostContainers, error) {
	hosts, err := selectedHosts(s)
	if err != nil {
		return nil, err
	}
	roles := map[string]bool{}
	sel, _ := s.Cfg.Select(s.Filter())
	for _, r := range sel.Roles {
		roles[r.Name] = true
	}
	out := make([]hostContainers, len(hosts))
	idx := map[string]int{}
	for i, h := range hosts {
		idx[h] = i
		out[i].Host = h
	}
	err = s.EachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
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

func runAppContainers(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	list, err := eachSelectedHost(ctx, s)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(s.G.Stdout, list)
	}
	tw := tabwriter.NewWriter(s.G.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tCONTAINER\tROLE\tVERSION\tSTATE\tSTATUS")
	for _, h := range list {
		for _, ct := range h.Containers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.Host, ct.Name, ct.Role, ct.Version, ct.State, ct.Status)
		}
	}
	return tw.Flush()
}

func runAppVersion(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	list, err := eachSelectedHost(ctx, s)
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
	if c.Bool("json") {
		return writeJSON(s.G.Stdout, out)
	}
	for _, v := range out {
		fmt.Fprintf(s.G.Stdout, "%s %s: %s\n", v.Host, v.Role, v.Version)
	}
	return nil
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

func runAppStale(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	targets, _, err := s.Targets()
	if err != nil {
		return err
	}
	type stale struct {
		Host      string `json:"host"`
		Role      string `json:"role"`
		Container string `json:"container"`
		Version   string `json:"version"`
		Stopped   bool   `json:"stopped,omitempty"`
	}
	var found []stale
	var errs []error
	for _, t := range targets {
		conn, err := s.Pool.Get(ctx, t.Host)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs, err := listContainers(ctx, conn, s.Cfg.Service, s.Cfg.Destination, t.Role)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		live, _ := s.LiveVersion(ctx, t)
		for _, ct := range staleContainers(cs, live) {
			st := stale{Host: t.Host, Role: t.Role, Container: ct.Name, Version: ct.Version}
			if c.Bool("stop") {
				cctx, cancel := context.WithTimeout(ctx, remoteTimeout)
				_, err := conn.Output(cctx, "docker stop "+transport.Quote(ct.Name))
				cancel()
				if err != nil {
					errs = append(errs, fmt.Errorf("stop %s on %s: %w", ct.Name, t.Host, err))
				} else {
					st.Stopped = true
				}
			}
			found = append(found, st)
		}
	}
	if c.Bool("json") {
		if err := writeJSON(s.G.Stdout, found); err != nil {
			return err
		}
	} else {
		if len(found) == 0 {
			fmt.Fprintln(s.G.Stdout, "No stale containers")
		}
		for _, st := range found {
			verb := "Detected stale container"
			if st.Stopped {
				verb = "Stopped stale container"
			}
			fmt.Fprintf(s.G.Stdout, "%s for role %s on %s: %s\n", verb, st.Role, st.Host, st.Container)
		}
	}
	return errors.Join(errs...)
}

func runAppImages(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	hosts, err := selectedHosts(s)
	if err != nil {
		return err
	}
	repo := strings.TrimSuffix(s.ImageRef("x"), ":x")
	cmd := "docker image ls --format " + transport.Quote(`{{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`) + " " + transport.Quote(repo)
	type img struct {
		Host  string `json:"host"`
		Image string `json:"image"`
		ID    string `json:"id"`
		Age   string `json:"created"`
		Size  string `json:"size"`
	}
	var mu sync.Mutex
	byHost := map[string][]img{}
	err = s.EachHost(ctx, hosts, func(ctx context.Context, conn *transport.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		out, err := conn.Output(ctx, cmd)
		if err != nil {
			return err
		}
		var list []img
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Split(line, "\t")
			if len(f) == 4 {
				list = append(list, img{conn.Host(), f[0], f[1], f[2], f[3]})
			}
		}
		mu.Lock()
		byHost[conn.Host()] = list
		mu.Unlock()
		return nil
	})
	var all []img
	for _, h := range hosts {
		all = append(all, byHost[h]...)
	}
	if c.Bool("json") {
		return errors.Join(err, writeJSON(s.G.Stdout, all))
	}
	tw := tabwriter.NewWriter(s.G.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tIMAGE\tID\tCREATED\tSIZE")
	for _, i := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", i.Host, i.Image, i.ID, i.Age, i.Size)
	}
	return errors.Join(err, tw.Flush())
}

// roleOp stops or starts the selected roles' live containers through each
// host's sidecar, which keeps its journal and Traefik in step.
func roleOp(ctx context.Context, s *fleetcmd.Session, op string) error {
	targets, _, err := s.Targets()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			cl, err := s.Sidecar(ctx, t.Host)
			var resp *contract.RoleResponse
			if err == nil {
				req := contract.RoleRequest{Role: s.Role(t.Role), Who: fleetcmd.Performer()}
				if op == "stop" {
					resp, err = cl.StopRole(ctx, req)
				} else {
					resp, err = cl.StartRole(ctx, req)
				}
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s %s on %s: %w", op, t.Role, t.Host, err))
				mu.Unlock()
				return
			}
			state := "stopped"
			if resp.Running {
				state = "running"
			}
			s.Out.Step(t.Host, op+" "+t.Role+" "+resp.Version, state, time.Since(t0))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runAppBoot (re)starts the app at --version (default: each role's live
// version) through the sidecar's zero-downtime swap, primary first, under
// the deploy lock.
func runAppBoot(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	plan, err := s.Plan()
	if err != nil {
		return err
	}
	targets := plan.Targets()
	versions := map[fleet.Target]string{}
	for _, t := range targets {
		v := s.G.Version
		if v == "" {
			if v, err = s.LiveVersion(ctx, t); err != nil {
				return err
			}
		}
		if v == "" {
			return fmt.Errorf("app boot: %s on %s has no live version; pass --version", t.Role, t.Host)
		}
		versions[t] = v
	}
	release, err := s.AcquireLock(ctx, "app boot", s.G.Version, c.Duration("lock-wait"))
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if err := release(cctx); err != nil {
			s.Out.Error("release deploy lock: %v", err)
		}
	}()
	for _, t := range targets {
		t0 := time.Now()
		if err := s.DeployRole(ctx, t, versions[t]); err != nil {
			return err
		}
		s.Out.Step(t.Host, "boot "+t.Role, versions[t], time.Since(t0))
	}
	return nil
}

// removeAppScript stops and removes every container of the service and
// destination (given by name) and the app's images no container uses.
func removeAppScript(names []string, imageRepo string) string {
	var b strings.Builder
	if len(names) > 0 {
		b.WriteString("docker rm -f " + transport.Quote(names...) + " >/dev/null; ")
	}
	b.WriteString("ids=$(docker image ls -q " + transport.Quote(imageRepo) + "); ")
	b.WriteString(`[ -z "$ids" ] || docker image rm $ids >/dev/null 2>&1; true`)
	return b.String()
}

func runAppRemove(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	if err := confirm(stdin(), s.G.Stderr, c.Bool("confirmed"), "This removes the app containers and images of "+s.Cfg.Service+" from the selected hosts. Continue?"); err != nil {
		return err
	}
	return removeApp(ctx, s)
}

// removeApp stops each selected role through its sidecar (so it stops
// routing to it) and removes the containers and images.
func removeApp(ctx context.Context, s *fleetcmd.Session) error {
	targets, _, err := s.Targets()
	if err != nil {
		return err
	}
	for _, t := range targets {
		if cl, err := s.Sidecar(ctx, t.Host); err == nil {
			// Nothing live is fine: there is nothing to stop.
			_, _ = cl.StopRole(ctx, contract.RoleRequest{Role: s.Role(t.Role), Who: fleetcmd.Performer()})
		}
	}
	hosts, err := selectedHosts(s)
	if err != nil {
		return err
	}
	repo := strings.TrimSuffix(s.ImageRef("x"), ":x")
	sel, _ := s.Cfg.Select(s.Filter())
	return s.EachHost(ctx, hosts, func(ctx context.Context, conn *transport.Conn) error {
		cs, err := listContainers(ctx, conn, s.Cfg.Service, s.Cfg.Destination, "")
		if err != nil {
			return err
		}
		var names []string
		for _, ct := range cs {
			for _, r := range sel.Roles {
				if r.Name == ct.Role {
					names = append(names, ct.Name)
				}
			}
		}
		ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
		defer cancel()
		if out, err := conn.Output(ctx, removeAppScript(names, repo)); err != nil {
			return fmt.Errorf("remove app: %w: %s", err, out)
		}
		s.Out.Step(conn.Host(), "remove app", fmt.Sprintf("%d container(s) removed", len(names)), 0)
		return nil
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

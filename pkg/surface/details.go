package surface

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
)

// details is `docker kamal details`: app, proxy and accessories.
type details struct {
	App         []appRoleState   `json:"app"`
	Proxy       []proxyState     `json:"proxy"`
	Accessories []accessoryState `json:"accessories"`
}

// appRoleState is one role on one host as its sidecar reports it.
type appRoleState struct {
	Host      string `json:"host"`
	Role      string `json:"role"`
	Version   string `json:"version,omitempty"`
	Container string `json:"container,omitempty"`
	Health    string `json:"health"`
	Error     string `json:"error,omitempty"`
}

func registerDetails() {
	command.RegisterFlags("details", jsonFlag)
	command.Register("details", handler(runDetails))
}

// appStates asks each selected host's sidecar for this service's roles.
func appStates(ctx context.Context, s *fleetcmd.Session) ([]appRoleState, error) {
	targets, _, err := s.Targets()
	if err != nil {
		return nil, err
	}
	statuses := map[string]*contract.Status{}
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range targets {
		mu.Lock()
		_, done := statuses[t.Host]
		statuses[t.Host] = nil
		mu.Unlock()
		if done {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := s.Sidecar(ctx, t.Host)
			var st *contract.Status
			if err == nil {
				cctx, cancel := context.WithTimeout(ctx, remoteTimeout)
				st, err = cl.Status(cctx)
				cancel()
			}
			mu.Lock()
			defer mu.Unlock()
			statuses[t.Host], errs[t.Host] = st, err
		}()
	}
	wg.Wait()
	var out []appRoleState
	var all []error
	for _, t := range targets {
		rs := appRoleState{Host: t.Host, Role: t.Role, Health: contract.HealthMissing}
		if err := errs[t.Host]; err != nil {
			rs.Health, rs.Error = contract.HealthUnknown, err.Error()
			all = append(all, fmt.Errorf("%s: %w", t.Host, err))
		} else if st := statuses[t.Host]; st != nil {
			want := s.Role(t.Role)
			for _, r := range st.Roles {
				if r.Role == want {
					rs.Version, rs.Container, rs.Health = r.LiveVersion, r.Container, r.Health
				}
			}
		}
		out = append(out, rs)
	}
	return out, errors.Join(all...)
}

func runDetails(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	var d details
	var errs []error
	app, err := appStates(ctx, s)
	d.App = app
	errs = append(errs, err)
	if hosts, err := serverHosts(s); err == nil {
		if ph := s.ProxyHosts(hosts); len(ph) > 0 {
			d.Proxy, err = proxyStates(ctx, s, ph)
			errs = append(errs, err)
		}
	}
	if list, err := accessories(s, "all"); err == nil {
		d.Accessories, err = accessoryStates(ctx, s, list)
		errs = append(errs, err)
	}
	if c.Bool("json") {
		return errors.Join(writeJSON(s.G.Stdout, d), errors.Join(errs...))
	}
	tw := tabwriter.NewWriter(s.G.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tHOST\tVERSION\tCONTAINER\tHEALTH")
	for _, a := range d.App {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Role, a.Host, a.Version, a.Container, a.Health)
	}
	if len(d.Proxy) > 0 {
		fmt.Fprintln(tw, "\nPROXY\tHOST\tIMAGE\tSTATE\tSTATUS")
		for _, p := range d.Proxy {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", proxyContainer, p.Host, p.Image, p.State, p.Status)
		}
	}
	if len(d.Accessories) > 0 {
		fmt.Fprintln(tw, "\nACCESSORY\tHOST\tIMAGE\tSTATE\tSTATUS")
		for _, a := range d.Accessories {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Accessory, a.Host, a.Image, a.State, a.Status)
		}
	}
	return errors.Join(tw.Flush(), errors.Join(errs...))
}

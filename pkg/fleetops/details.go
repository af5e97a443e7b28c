package fleetops

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
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

// appStates asks each selected host's sidecar for this service's roles.
func (s *Session) appStates(ctx context.Context) ([]appRoleState, error) {
	targets, _, err := s.targets()
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
			cl, err := s.sidecar(ctx, t.Host)
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
			want := s.role(t.Role)
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

// Details prints the app's roles as their sidecars report them, the proxy
// and the accessories on the selected hosts.
func (s *Session) Details(ctx context.Context, asJSON bool) error {
	var d details
	var errs []error
	app, err := s.appStates(ctx)
	d.App = app
	errs = append(errs, err)
	if hosts, err := s.serverHosts(); err == nil {
		if ph := s.proxyHostsAmong(hosts); len(ph) > 0 {
			d.Proxy, err = s.proxyStates(ctx, ph)
			errs = append(errs, err)
		}
	}
	if list, err := s.accessories("all"); err == nil {
		d.Accessories, err = s.accessoryStates(ctx, list)
		errs = append(errs, err)
	}
	if asJSON {
		return errors.Join(writeJSON(s.Opts.Stdout, d), errors.Join(errs...))
	}
	return errors.Join(writeTable(s.Opts.Stdout, d.rows()), errors.Join(errs...))
}

// rows are the details as tables: app, then proxy and accessories when
// there are some.
func (d details) rows() [][]string {
	rows := [][]string{{"APP", "HOST", "VERSION", "CONTAINER", "HEALTH"}}
	for _, a := range d.App {
		rows = append(rows, []string{a.Role, a.Host, a.Version, a.Container, a.Health})
	}
	if len(d.Proxy) > 0 {
		rows = append(rows, []string{""}, []string{"PROXY", "HOST", "IMAGE", "STATE", "STATUS"})
		for _, p := range d.Proxy {
			rows = append(rows, []string{proxyContainer, p.Host, p.Image, p.State, p.Status})
		}
	}
	if len(d.Accessories) > 0 {
		rows = append(rows, []string{""}, []string{"ACCESSORY", "HOST", "IMAGE", "STATE", "STATUS"})
		for _, a := range d.Accessories {
			rows = append(rows, []string{a.Accessory, a.Host, a.Image, a.State, a.Status})
		}
	}
	return rows
}

package fleetops

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

// accessoryState is one accessory container on one host.
type accessoryState struct {
	Accessory string `json:"accessory"`
	Host      string `json:"host"`
	Container string `json:"container"`
	Image     string `json:"image"`
	State     string `json:"state"`
	Status    string `json:"status"`
	Ports     string `json:"ports,omitempty"`
}

// containerPSCommand lists the container named exactly name.
func containerPSCommand(name string) string {
	return "docker ps -a --filter " + transport.Quote("name=^"+name+"$") + " --format " + transport.Quote(`{{.Names}}\t{{.Image}}\t{{.State}}\t{{.Status}}\t{{.Ports}}`)
}

// containerPS is what containerPSCommand printed: image, state, status and
// ports, or ok false when the container does not exist.
func containerPS(out []byte) (image, state, status, ports string, ok bool) {
	f := strings.Split(strings.TrimSpace(string(out)), "\t")
	if len(f) != 5 {
		return "", "", "", "", false
	}
	return f[1], f[2], f[3], f[4], true
}

func (s *Session) accessoryStates(ctx context.Context, list []*spec.Accessory) ([]accessoryState, error) {
	var out []accessoryState
	var mu sync.Mutex
	var errs []error
	for _, a := range list {
		hosts := s.accessoryHosts(a)
		states := make(map[string]accessoryState)
		err := s.eachHost(ctx, hosts, func(ctx context.Context, c *transport.Conn) error {
			ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
			defer cancel()
			raw, err := c.Output(ctx, containerPSCommand(a.Service))
			if err != nil {
				return err
			}
			st := accessoryState{Accessory: a.Name, Host: c.Host(), Container: a.Service, Image: a.Image, State: "missing"}
			if image, state, status, ports, ok := containerPS(raw); ok {
				st.Image, st.State, st.Status, st.Ports = image, state, status, ports
			}
			mu.Lock()
			states[c.Host()] = st
			mu.Unlock()
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		for _, h := range hosts {
			if st, ok := states[h]; ok {
				out = append(out, st)
			}
		}
	}
	return out, errors.Join(errs...)
}

// AccessoryDetails prints the container of accessory name ("" or "all":
// every accessory) on each of its selected hosts.
func (s *Session) AccessoryDetails(ctx context.Context, name string, asJSON bool) error {
	if name == "" {
		name = "all"
	}
	list, err := s.accessories(name)
	if err != nil {
		return err
	}
	states, err := s.accessoryStates(ctx, list)
	if asJSON {
		return errors.Join(err, writeJSON(s.Opts.Stdout, states))
	}
	rows := [][]string{{"ACCESSORY", "HOST", "CONTAINER", "IMAGE", "STATE", "STATUS", "PORTS"}}
	for _, st := range states {
		rows = append(rows, []string{st.Accessory, st.Host, st.Container, st.Image, st.State, st.Status, st.Ports})
	}
	return errors.Join(err, writeTable(s.Opts.Stdout, rows))
}

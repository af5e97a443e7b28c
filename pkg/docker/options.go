package docker

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// toAPI converts the spec into the engine's create request parts.
func (s ContainerSpec) toAPI() (*container.Config, *container.HostConfig, *network.NetworkingConfig, error) {
	cfg := &container.Config{
		Image:      s.Image,
		Cmd:        s.Cmd,
		Entrypoint: s.Entrypoint,
		Env:        s.Env,
		Labels:     s.Labels,
		User:       s.User,
	}
	if s.StopTimeout > 0 {
		secs := int(math.Ceil(s.StopTimeout.Seconds()))
		cfg.StopTimeout = &secs
	}
	hc := &container.HostConfig{
		Binds:     s.Volumes,
		LogConfig: container.LogConfig{Type: s.LogDriver, Config: s.LogOpts},
	}
	if s.Memory != "" {
		b, err := units.RAMInBytes(s.Memory)
		if err != nil || b <= 0 {
			return nil, nil, nil, fmt.Errorf("parse memory %q: invalid size", s.Memory)
		}
		hc.Memory = b
	}
	if s.CPUs != "" {
		f, err := strconv.ParseFloat(s.CPUs, 64)
		if err != nil || f <= 0 || f > 1024 {
			return nil, nil, nil, fmt.Errorf("parse cpus %q: want a positive number", s.CPUs)
		}
		hc.NanoCPUs = int64(f * 1e9)
	}
	if err := applyExtra(cfg, hc, s.Extra); err != nil {
		return nil, nil, nil, err
	}
	rp, err := parseRestart(s.Restart)
	if err != nil {
		return nil, nil, nil, err
	}
	hc.RestartPolicy = rp
	if len(s.Ports) > 0 {
		cfg.ExposedPorts = network.PortSet{}
		hc.PortBindings = network.PortMap{}
		for _, p := range s.Ports {
			port, b, err := parsePort(p)
			if err != nil {
				return nil, nil, nil, err
			}
			cfg.ExposedPorts[port] = struct{}{}
			hc.PortBindings[port] = append(hc.PortBindings[port], b)
		}
	}
	var nc *network.NetworkingConfig
	if s.Network != "" {
		hc.NetworkMode = container.NetworkMode(s.Network)
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			s.Network: {Aliases: s.Aliases},
		}}
	}
	return cfg, hc, nc, nil
}

// parseRestart reads --restart syntax.
func parseRestart(s string) (container.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	rp := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	switch rp.Name {
	case "", "no", "always", "unless-stopped":
		if hasCount {
			return rp, fmt.Errorf("parse restart %q: only on-failure takes a count", s)
		}
	case "on-failure":
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return rp, fmt.Errorf("parse restart %q: bad retry count", s)
			}
			rp.MaximumRetryCount = n
		}
	default:
		return rp, fmt.Errorf("parse restart %q: unknown policy", s)
	}
	return rp, nil
}

// parsePort reads -p syntax: [ip:]hostPort:containerPort[/proto].
func parsePort(s string) (network.Port, network.PortBinding, error) {
	var b network.PortBinding
	spec, proto, _ := strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	var ip, host, ctr string
	if i := strings.LastIndex(spec, ":"); i >= 0 {
		ctr = spec[i+1:]
		rest := spec[:i]
		if j := strings.LastIndex(rest, ":"); j >= 0 {
			ip, host = strings.Trim(rest[:j], "[]"), rest[j+1:]
		} else {
			host = rest
		}
	} else {
		ctr = spec
	}
	port, err := network.ParsePort(ctr + "/" + proto)
	if err != nil {
		return port, b, fmt.Errorf("parse port %q: %w", s, err)
	}
	if host != "" {
		if n, err := strconv.Atoi(host); err != nil || n < 0 || n > 65535 {
			return port, b, fmt.Errorf("parse port %q: bad host port", s)
		}
	}
	b.HostPort = host
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return port, b, fmt.Errorf("parse port %q: bad address: %w", s, err)
		}
		b.HostIP = a
	}
	return port, b, nil
}

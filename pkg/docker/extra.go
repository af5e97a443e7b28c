package docker

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
)

// ErrUnknownOption is an Extra option this package has no mapping for.
var ErrUnknownOption = errors.New("unknown docker run option")

// extraOption applies one docker run option's values (the last wins for
// single-valued ones) to the create request.
type extraOption func(cfg *container.Config, hc *container.HostConfig, vals []string) error

// extraOptions map `docker run --NAME` onto the engine API, as the docker
// CLI does; contract.ExtraOptions lists the same names.
var extraOptions = map[string]extraOption{
	"add-host": func(_ *container.Config, hc *container.HostConfig, v []string) error {
		hc.ExtraHosts = append(hc.ExtraHosts, v...)
		return nil
	},
	"cap-add": func(_ *container.Config, hc *container.HostConfig, v []string) error {
		hc.CapAdd = append(hc.CapAdd, v...)
		return nil
	},
	"cap-drop": func(_ *container.Config, hc *container.HostConfig, v []string) error {
		hc.CapDrop = append(hc.CapDrop, v...)
		return nil
	},
	"group-add": func(_ *container.Config, hc *container.HostConfig, v []string) error {
		hc.GroupAdd = append(hc.GroupAdd, v...)
		return nil
	},
	"security-opt": func(_ *container.Config, hc *container.HostConfig, v []string) error {
		hc.SecurityOpt = append(hc.SecurityOpt, v...)
		return nil
	},
	"device": devices,
	"tmpfs":  tmpfs,
	"ulimit": ulimits,
	"health-cmd": func(c *container.Config, _ *container.HostConfig, v []string) error {
		health(c).Test = []string{"CMD-SHELL", last(v)}
		return nil
	},
	"health-interval":     healthDuration(func(h *container.HealthConfig, d time.Duration) { h.Interval = d }),
	"health-timeout":      healthDuration(func(h *container.HealthConfig, d time.Duration) { h.Timeout = d }),
	"health-start-period": healthDuration(func(h *container.HealthConfig, d time.Duration) { h.StartPeriod = d }),
	"health-retries":      healthRetries,
	"hostname":            func(c *container.Config, _ *container.HostConfig, v []string) error { c.Hostname = last(v); return nil },
	"user":                func(c *container.Config, _ *container.HostConfig, v []string) error { c.User = last(v); return nil },
	"workdir": func(c *container.Config, _ *container.HostConfig, v []string) error {
		c.WorkingDir = last(v)
		return nil
	},
	"stop-signal": func(c *container.Config, _ *container.HostConfig, v []string) error {
		c.StopSignal = last(v)
		return nil
	},
	"init":               boolOption(func(hc *container.HostConfig, b bool) { hc.Init = &b }),
	"privileged":         boolOption(func(hc *container.HostConfig, b bool) { hc.Privileged = b }),
	"shm-size":           sizeOption(func(hc *container.HostConfig, n int64) { hc.ShmSize = n }),
	"memory-reservation": sizeOption(func(hc *container.HostConfig, n int64) { hc.MemoryReservation = n }),
	"memory-swap":        memorySwap,
	"pids-limit":         pidsLimit,
}

// applyExtra applies every option of extra, naming the first bad one.
func applyExtra(cfg *container.Config, hc *container.HostConfig, extra map[string][]string) error {
	for name, vals := range extra {
		apply, ok := extraOptions[name]
		if !ok {
			return fmt.Errorf("option %s: %w", name, ErrUnknownOption)
		}
		if err := apply(cfg, hc, vals); err != nil {
			return fmt.Errorf("option %s %q: %w", name, vals, err)
		}
	}
	return nil
}

func last(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func health(c *container.Config) *container.HealthConfig {
	if c.Healthcheck == nil {
		c.Healthcheck = &container.HealthConfig{}
	}
	return c.Healthcheck
}

func healthDuration(set func(*container.HealthConfig, time.Duration)) extraOption {
	return func(c *container.Config, _ *container.HostConfig, v []string) error {
		d, err := time.ParseDuration(last(v))
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 10s")
		}
		set(health(c), d)
		return nil
	}
}

func healthRetries(c *container.Config, _ *container.HostConfig, v []string) error {
	n, err := strconv.Atoi(last(v))
	if err != nil || n < 0 {
		return fmt.Errorf("want a count")
	}
	health(c).Retries = n
	return nil
}

// boolOption reads a flag: Kamal writes `init: true` for `--init`.
func boolOption(set func(*container.HostConfig, bool)) extraOption {
	return func(_ *container.Config, hc *container.HostConfig, v []string) error {
		s := last(v)
		if s == "" {
			s = "true"
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		set(hc, b)
		return nil
	}
}

func sizeOption(set func(*container.HostConfig, int64)) extraOption {
	return func(_ *container.Config, hc *container.HostConfig, v []string) error {
		n, err := units.RAMInBytes(last(v))
		if err != nil || n <= 0 {
			return fmt.Errorf("want a size such as 256m")
		}
		set(hc, n)
		return nil
	}
}

func memorySwap(_ *container.Config, hc *container.HostConfig, v []string) error {
	if last(v) == "-1" {
		hc.MemorySwap = -1
		return nil
	}
	return sizeOption(func(hc *container.HostConfig, n int64) { hc.MemorySwap = n })(nil, hc, v)
}

func pidsLimit(_ *container.Config, hc *container.HostConfig, v []string) error {
	n, err := strconv.ParseInt(last(v), 10, 64)
	if err != nil {
		return fmt.Errorf("want a number")
	}
	hc.PidsLimit = &n
	return nil
}

func ulimits(_ *container.Config, hc *container.HostConfig, v []string) error {
	for _, s := range v {
		u, err := units.ParseUlimit(s)
		if err != nil {
			return err
		}
		hc.Ulimits = append(hc.Ulimits, u)
	}
	return nil
}

// tmpfs reads PATH[:OPTIONS].
func tmpfs(_ *container.Config, hc *container.HostConfig, v []string) error {
	for _, s := range v {
		p, opts, _ := strings.Cut(s, ":")
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("want an absolute path")
		}
		if hc.Tmpfs == nil {
			hc.Tmpfs = map[string]string{}
		}
		hc.Tmpfs[p] = opts
	}
	return nil
}

// devices reads HOST[:CONTAINER[:PERMISSIONS]].
func devices(_ *container.Config, hc *container.HostConfig, v []string) error {
	for _, s := range v {
		parts := strings.Split(s, ":")
		d := container.DeviceMapping{PathOnHost: parts[0], PathInContainer: parts[0], CgroupPermissions: "rwm"}
		if len(parts) > 1 {
			d.PathInContainer = parts[1]
		}
		if len(parts) > 2 {
			d.CgroupPermissions = parts[2]
		}
		if len(parts) > 3 || !strings.HasPrefix(d.PathOnHost, "/") {
			return fmt.Errorf("want HOST[:CONTAINER[:PERMISSIONS]]")
		}
		hc.Devices = append(hc.Devices, d)
	}
	return nil
}

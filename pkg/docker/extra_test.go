package docker

import (
	"errors"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/moby/moby/api/types/container"
)

func TestApplyExtra(t *testing.T) {
	cfg, hc := &container.Config{}, &container.HostConfig{}
	err := applyExtra(cfg, hc, map[string][]string{
		"health-cmd": {"curl -f localhost/up"}, "health-interval": {"5s"}, "health-retries": {"3"},
		"cap-add": {"NET_ADMIN"}, "add-host": {"db:10.0.0.4"}, "ulimit": {"nofile=1024:2048"},
		"shm-size": {"256m"}, "init": {"true"}, "tmpfs": {"/tmp:size=64m"}, "user": {"1000"},
		"pids-limit": {"100"}, "memory-swap": {"-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Healthcheck
	if h == nil || len(h.Test) != 2 || h.Test[0] != "CMD-SHELL" || h.Test[1] != "curl -f localhost/up" || h.Interval != 5*time.Second || h.Retries != 3 {
		t.Errorf("healthcheck %+v", h)
	}
	if len(hc.CapAdd) != 1 || hc.ExtraHosts[0] != "db:10.0.0.4" || hc.ShmSize != 256<<20 || hc.Init == nil || !*hc.Init ||
		hc.Tmpfs["/tmp"] != "size=64m" || cfg.User != "1000" || *hc.PidsLimit != 100 || hc.MemorySwap != -1 {
		t.Errorf("host config %+v, config %+v", hc, cfg)
	}
	if len(hc.Ulimits) != 1 || hc.Ulimits[0].Name != "nofile" || hc.Ulimits[0].Soft != 1024 || hc.Ulimits[0].Hard != 2048 {
		t.Errorf("ulimits %+v", hc.Ulimits)
	}
	if err := applyExtra(cfg, hc, map[string][]string{"pid": {"host"}}); !errors.Is(err, ErrUnknownOption) {
		t.Errorf("unknown option: %v", err)
	}
	if err := applyExtra(cfg, hc, map[string][]string{"shm-size": {"lots"}}); err == nil {
		t.Error("a bad size was accepted")
	}
}

// The contract's list and this package's mappings must name the same
// options: the plugin accepts exactly what the sidecar applies.
func TestExtraOptionsMatchTheContract(t *testing.T) {
	for _, name := range contract.ExtraOptions {
		if _, ok := extraOptions[name]; !ok {
			t.Errorf("contract lists %s, pkg/docker cannot apply it", name)
		}
	}
	for name := range extraOptions {
		if !contract.IsExtraOption(name) {
			t.Errorf("pkg/docker applies %s, the contract does not list it", name)
		}
	}
}

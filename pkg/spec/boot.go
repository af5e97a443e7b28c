package spec

// The boot section: how many hosts deploy at a time.

import (
	"strconv"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// Boot is how hosts are batched during a deploy.
type Boot struct {
	// Limit as written: "" (all at once), "3" or "25%".
	Limit         string            `yaml:"limit,omitempty"`
	Wait          contract.Duration `yaml:"wait,omitempty"`
	ParallelRoles bool              `yaml:"parallel_roles"`
	count         int
	percent       int
	hostCount     int
}

// BatchSize is how many hosts boot at a time when n hosts are deployed; n
// when there is no limit. Percentages are of all the config's hosts, as in
// Kamal, and never below 1.
func (b Boot) BatchSize(n int) int {
	size := n
	switch {
	case b.count > 0:
		size = b.count
	case b.percent > 0:
		size = b.hostCount * b.percent / 100
		if size < 1 {
			size = 1
		}
	}
	if size > n {
		size = n
	}
	if size < 1 {
		size = 1
	}
	return size
}

// Batches splits hosts into boot batches of Boot.BatchSize.
func (c *Config) Batches(hosts []string) [][]string {
	size := c.Boot.BatchSize(len(hosts))
	var out [][]string
	for len(hosts) > 0 {
		n := size
		if n > len(hosts) {
			n = len(hosts)
		}
		out = append(out, hosts[:n])
		hosts = hosts[n:]
	}
	return out
}

func (b *builder) boot() error {
	rb := b.raw.Boot
	// Kamal boots a batch role by role unless parallel_roles is true
	// (boot.parallel_roles is nil, so falsy, when unset): its order is kept,
	// since a role may expect another to be up first.
	if rb == nil {
		b.c.Boot = Boot{hostCount: len(b.c.AllHosts())}
		return nil
	}
	bt := Boot{Wait: rb.Wait, ParallelRoles: rb.ParallelRoles != nil && *rb.ParallelRoles, hostCount: len(b.c.AllHosts())}
	if !isNull(rb.Limit) {
		if rb.Limit.Kind != yaml.ScalarNode {
			return b.t.errAt(rb.Limit, "boot.limit", "must be a number of hosts or a percentage like \"25%%\", got %s", kindName(rb.Limit))
		}
		count, pct, ok := parseLimit(rb.Limit.Value)
		if !ok {
			return b.t.errAt(rb.Limit, "boot.limit", "must be a positive number of hosts or a percentage from 1%% to 100%%, got %q", rb.Limit.Value)
		}
		bt.Limit, bt.count, bt.percent = strings.TrimSpace(rb.Limit.Value), count, pct
	}
	b.c.Boot = bt
	return nil
}

// parseLimit reads boot.limit: a positive count or "N%".
func parseLimit(s string) (count, percent int, ok bool) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "%") {
		p, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(s, "%")))
		if err != nil || p < 1 || p > 100 {
			return 0, 0, false
		}
		return 0, p, true
	}
	c, err := strconv.Atoi(s)
	if err != nil || c < 1 {
		return 0, 0, false
	}
	return c, 0, true
}

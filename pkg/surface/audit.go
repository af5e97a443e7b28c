package surface

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/pkg/command"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/fleetcmd"
)

// defaultAuditLines is how many entries `audit` reads from each host.
const defaultAuditLines = 100

func registerAudit() {
	command.RegisterFlags("audit", jsonFlag,
		&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: defaultAuditLines, Usage: "entries to read from each host"})
	command.Register("audit", handler(runAudit))
}

// mergeAudit merges the hosts' logs oldest first; an entry without a host
// takes the host it came from.
func mergeAudit(byHost map[string][]contract.AuditEntry) []contract.AuditEntry {
	var all []contract.AuditEntry
	for _, h := range sortedKeys(byHost) {
		for _, e := range byHost[h] {
			if e.Host == "" {
				e.Host = h
			}
			all = append(all, e)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	return all
}

// auditLine renders one entry.
func auditLine(e contract.AuditEntry) string {
	line := fmt.Sprintf("%s [%s] %s %s", e.Time.UTC().Format(time.RFC3339), e.Host, e.Who, e.Action)
	if e.What != "" {
		line += " " + e.What
	}
	if e.Result != "" {
		line += ": " + e.Result
	}
	return line
}

func runAudit(ctx context.Context, s *fleetcmd.Session, c *cli.Context) error {
	hosts, err := serverHosts(s)
	if err != nil {
		return err
	}
	byHost := map[string][]contract.AuditEntry{}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := s.Sidecar(ctx, h)
			var log *contract.AuditLog
			if err == nil {
				cctx, cancel := context.WithTimeout(ctx, remoteTimeout)
				log, err = cl.Audit(cctx, c.Int("lines"))
				cancel()
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("read audit log of %s: %w", h, err))
				return
			}
			byHost[h] = log.Entries
		}()
	}
	wg.Wait()
	entries := mergeAudit(byHost)
	if c.Bool("json") {
		if entries == nil {
			entries = []contract.AuditEntry{}
		}
		return errors.Join(writeJSON(s.G.Stdout, entries), errors.Join(errs...))
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(s.Out.Redact(auditLine(e)) + "\n")
	}
	fmt.Fprint(s.G.Stdout, b.String())
	return errors.Join(errs...)
}

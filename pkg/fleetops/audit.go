package fleetops

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// DefaultAuditLines is how many entries `audit` reads from each host.
const DefaultAuditLines = 100

// mergeAudit merges the hosts' logs oldest first; an entry without a host
// takes the host it came from.
func mergeAudit(byHost map[string][]contract.AuditEntry) []contract.AuditEntry {
	var all []contract.AuditEntry
	for _, h := range slices.Sorted(maps.Keys(byHost)) {
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

// Audit prints the merged audit log of the selected hosts, the last lines
// entries of each, oldest first.
func (s *Session) Audit(ctx context.Context, lines int, asJSON bool) error {
	hosts, err := s.serverHosts()
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
			cl, err := s.sidecar(ctx, h)
			var log *contract.AuditLog
			if err == nil {
				cctx, cancel := context.WithTimeout(ctx, remoteTimeout)
				log, err = cl.Audit(cctx, lines)
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
	if asJSON {
		if entries == nil {
			entries = []contract.AuditEntry{}
		}
		return errors.Join(writeJSON(s.Opts.Stdout, entries), errors.Join(errs...))
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(s.out.Redact(auditLine(e)) + "\n")
	}
	_, err = fmt.Fprint(s.Opts.Stdout, b.String())
	return errors.Join(err, errors.Join(errs...))
}

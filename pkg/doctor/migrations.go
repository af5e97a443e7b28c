package doctor

import (
	"fmt"
	"regexp"
	"strings"
)

// Migrations checks: migrations run once, not on every booting host, and
// with db:prepare.

var migrateRE = regexp.MustCompile(`\bdb:(migrate|prepare)\b`)

// The primary host boots first, alone (here as in Kamal 2), so a migration
// the entrypoint runs for the server finishes before any other host boots.
// What races is a migration the entrypoint runs for every container: `app
// exec`, the console and the job role start one on each host at once.
var checkMigrationsRace = Check{
	ID:    "migrations-race",
	Title: "migrations run once, not in every container the image starts",
	Run: func(p *Project) []Finding {
		hosts := p.appHosts()
		if hosts < 2 || p.Config.Migrations != nil {
			return nil
		}
		m, ok := p.Entrypoint.First(migrateRE)
		if !ok || p.Entrypoint.guardedByServer(m.Line) {
			return nil
		}
		task := "db:" + migrateRE.FindStringSubmatch(m.Text)[1]
		return []Finding{{
			Severity: Error, File: p.Entrypoint.Path, Line: m.Line,
			Message: fmt.Sprintf("the entrypoint runs %s in every container, not only the server's: `app exec` and the job role start containers on %d hosts at once, and they race to migrate (Rails raises ConcurrentMigrationError on all but one)", task, hosts),
			Fix:     `run it only for the server, as Rails generates (if [ "${@: -2:1}" == "./bin/rails" ] && [ "${@: -1:1}" == "server" ]; then ./bin/rails db:prepare; fi): the primary host boots first, alone, and migrates before any other; or move it to a migrations: section (cmd: bin/rails db:prepare)`,
		}}
	},
}

// appHosts counts the distinct hosts of the app's roles.
func (p *Project) appHosts() int {
	if p.Config == nil {
		return 0
	}
	seen := map[string]bool{}
	for _, r := range p.Config.Roles {
		for _, h := range r.Hosts {
			seen[h] = true
		}
	}
	return len(seen)
}

var (
	shellIfRE = regexp.MustCompile(`^\s*(if|elif)\b`)
	shellFiRE = regexp.MustCompile(`^\s*fi\b`)
)

// guardedByServer reports whether line (1-based) sits inside an if whose
// condition names the server command, as Rails' generated entrypoint does.
func (f *SourceFile) guardedByServer(line int) bool {
	var open []string
	for i := 0; i < line-1 && i < len(f.Lines); i++ {
		l := f.Lines[i]
		switch {
		case shellIfRE.MatchString(l):
			open = append(open, l)
		case shellFiRE.MatchString(l) && len(open) > 0:
			open = open[:len(open)-1]
		}
	}
	for _, cond := range open {
		if strings.Contains(cond, "server") {
			return true
		}
	}
	return false
}

var checkMigrationsPrepare = Check{
	ID:    "migrations-prepare",
	Title: "the entrypoint uses db:prepare rather than db:migrate",
	Run: func(p *Project) []Finding {
		var out []Finding
		for _, m := range p.Entrypoint.Find(migrateRE) {
			if !strings.Contains(m.Text, "db:migrate") || strings.Contains(p.Entrypoint.Text(), "db:prepare") {
				continue
			}
			out = append(out, Finding{
				Severity: Warn, File: p.Entrypoint.Path, Line: m.Line,
				Message: "the entrypoint runs db:migrate, which fails on a fresh database",
				Fix:     "use bin/rails db:prepare: it creates and loads the schema when the database is new and migrates otherwise",
			})
		}
		return out
	},
}

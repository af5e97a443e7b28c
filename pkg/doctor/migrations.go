package doctor

import (
	"fmt"
	"regexp"
	"strings"
)

// Migrations checks: migrations run once, not on every booting host, and
// with db:prepare.

var migrateRE = regexp.MustCompile(`\bdb:(migrate|prepare)\b`)

// bootMigration returns where the image migrates on boot: a line of
// bin/docker-entrypoint, or the final stage's CMD/ENTRYPOINT.
func (p *Project) bootMigration() (file string, line int, text string, ok bool) {
	if m, found := p.Entrypoint.First(migrateRE); found {
		return p.Entrypoint.Path, m.Line, m.Text, true
	}
	for _, s := range p.finalChain() {
		for _, in := range s.Instructions {
			if (in.Cmd == "CMD" || in.Cmd == "ENTRYPOINT") && migrateRE.MatchString(in.Args) {
				return p.Dockerfile.Path, in.Line, in.Args, true
			}
		}
	}
	return "", 0, "", false
}

var checkMigrationsRace = Check{
	ID:    "migrations-race",
	Title: "migrations run once, not on every host of the primary role",
	Run: func(p *Project) []Finding {
		r := p.primaryRole()
		if r == nil || len(r.Hosts) < 2 || p.Config.Migrations != nil {
			return nil
		}
		file, line, text, ok := p.bootMigration()
		if !ok {
			return nil
		}
		task := "db:" + migrateRE.FindStringSubmatch(text)[1]
		return []Finding{{
			Severity: Error, File: file, Line: line,
			Message: fmt.Sprintf("the image runs %s on boot and role %s boots %d hosts at once: they race to migrate (Rails raises ConcurrentMigrationError on all but one)", task, r.Name, len(r.Hosts)),
			Fix:     "add a migrations: section (cmd: bin/rails db:prepare) to config/deploy.yml so it runs once on the primary host before any swap, and drop the migration from the entrypoint (or run it only on the primary host)",
		}}
	},
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

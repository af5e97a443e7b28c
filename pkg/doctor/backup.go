package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Backup check: a database accessory has a way to dump it.

var (
	databaseImageRE = regexp.MustCompile(`(?i)(^|/)(postgres|postgis|timescaledb|mysql|mariadb|mongo)(:|@|$)`)
	dumpToolRE      = regexp.MustCompile(`\b(pg_dump|pg_dumpall|pg_basebackup|mysqldump|mariadb-dump|mongodump)\b`)
)

// maxHookFiles bounds how many hook files are read.
const maxHookFiles = 64

// dumpTool returns the dump command that fits an accessory's image.
func dumpTool(image string) string {
	switch {
	case strings.Contains(image, "mysql"):
		return "mysqldump -u root -p$MYSQL_ROOT_PASSWORD --single-transaction --all-databases"
	case strings.Contains(image, "mariadb"):
		return "mariadb-dump -u root -p$MARIADB_ROOT_PASSWORD --single-transaction --all-databases"
	case strings.Contains(image, "mongo"):
		return "mongodump --archive"
	}
	return "pg_dump -U $POSTGRES_USER $POSTGRES_DB"
}

// BackupAlias is the alias line that dumps accessory name (gzip on stdout).
func BackupAlias(name, image string) string {
	return fmt.Sprintf(`accessory exec %s --reuse "sh -c '%s | gzip'"`, name, dumpTool(image))
}

// hooksDump reports whether a hook script runs a dump tool.
func (p *Project) hooksDump() bool {
	dir := ".kamal/hooks"
	if p.Config != nil && p.Config.HooksPath != "" {
		dir = p.Config.HooksPath
	}
	entries, err := os.ReadDir(filepath.Join(p.Root, dir))
	if err != nil {
		return false
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for i, n := range names {
		if i >= maxHookFiles {
			break
		}
		if f := p.File(filepath.ToSlash(filepath.Join(dir, n))); f != nil && dumpToolRE.MatchString(f.Text()) {
			return true
		}
	}
	return false
}

var checkBackupDB = Check{
	ID:    "backup-db",
	Title: "every database accessory has a backup",
	Run: func(p *Project) []Finding {
		c := p.Config
		if c == nil {
			return nil
		}
		var out []Finding
		for _, a := range c.Accessories {
			if !databaseImageRE.MatchString(a.Image) {
				continue
			}
			backed := false
			for _, cmd := range c.Aliases {
				if dumpToolRE.MatchString(cmd) && strings.Contains(cmd, a.Name) {
					backed = true
				}
			}
			for _, b := range c.Accessories {
				if b != a && strings.Contains(strings.ToLower(b.Image), "backup") {
					backed = true
				}
			}
			if backed || p.hooksDump() {
				continue
			}
			pos := p.at(kp("accessories", a.Name))
			out = append(out, Finding{
				Severity: Warn, File: pos.File, Line: pos.Line,
				Message: fmt.Sprintf("database accessory %s has no backup: no alias or hook dumps it and no backup accessory runs beside it", a.Name),
				Fix:     fmt.Sprintf("add to config/deploy.yml aliases: the alias `backup: %s`, run `docker kamal backup > %s-$(date +%%F).sql.gz` on a schedule and copy the file off the host", BackupAlias(a.Name, a.Image), a.Name),
			})
		}
		return out
	},
}

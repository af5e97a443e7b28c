package doctor

import "fmt"

// Rollback check: enough old containers are kept to roll back to.

// minRetain is the fewest retained containers that still allow a rollback
// past one bad deploy.
const minRetain = 2

var checkRollbackRetain = Check{
	ID:    "rollback-retain",
	Title: "retain_containers keeps at least 2 old versions",
	Run: func(p *Project) []Finding {
		c := p.Config
		if c == nil || !p.loc.Has("retain_containers") || c.RetainContainers >= minRetain {
			return nil
		}
		pos := p.at("retain_containers")
		return []Finding{{
			Severity: Warn, File: pos.File, Line: pos.Line,
			Message: fmt.Sprintf("retain_containers is %d: a rollback has too few old versions to go back to", c.RetainContainers),
			Fix:     "set retain_containers to 2 or more (default 5)",
		}}
	},
}

package doctor

import "regexp"

// Logs check: logs leave the container, through a logging driver or at
// least through STDOUT into Docker's log, not into log/production.log.

var stdoutLoggerRE = regexp.MustCompile(`(STDOUT|\$stdout)`)

var checkLogsEphemeral = Check{
	ID:    "logs-ephemeral",
	Title: "logs are not written only to files inside the container",
	Run: func(p *Project) []Finding {
		if p.Production == nil || !p.Rails() {
			return nil
		}
		if c := p.Config; c != nil {
			if c.Logging.Driver != "" {
				return nil
			}
			if r := p.primaryRole(); r != nil && r.Logging.Driver != "" {
				return nil
			}
		}
		if p.hasEnv("RAILS_LOG_TO_STDOUT", func(v string) bool { return v != "" }) {
			return nil
		}
		if _, ok := p.Production.First(stdoutLoggerRE); ok {
			return nil
		}
		return []Finding{{
			Severity: Warn, File: p.Production.Path,
			Message: "Rails logs to log/production.log inside the container and no logging driver is configured: logs vanish with the container",
			Fix:     "log to STDOUT (config.logger = ActiveSupport::TaggedLogging.logger(STDOUT), or RAILS_LOG_TO_STDOUT=1 in env.clear) and/or set logging.driver in config/deploy.yml",
		}}
	},
}

package doctor

import (
	"context"
)

// Check is one rule with a stable ID.
type Check struct {
	// ID is stable across releases: scripts and ignore lists rely on it.
	ID string
	// Title says what the check looks for.
	Title string
	// Run returns the check's findings; every finding carries ID.
	Run func(p *Project) []Finding
}

// Checks are every offline check, in the order of the readiness list.
func Checks() []Check {
	return []Check{
		checkConfigLoad,
		checkHealthConfig, checkHealthRoute, checkHealthForceSSL,
		checkSecretsTracked, checkSecretsEnvClear, checkSecretsRegistryPassword, checkSecretsMasterKey,
		checkMigrationsRace, checkMigrationsPrepare,
		checkImageBuildTools, checkImageSize,
		checkMemoryLimit,
		checkRubyJemalloc, checkRubyYJIT,
		checkUserRoot,
		checkTLSProxy, checkTLSResolver, checkTLSForceSSL,
		checkBackupDB,
		checkLogsEphemeral,
		checkRollbackRetain,
		checkHostsIP,
	}
}

// Run runs checks over p and returns their findings in check order.
func Run(ctx context.Context, p *Project, checks []Check) []Finding {
	var out []Finding
	for _, c := range checks {
		if ctx.Err() != nil {
			break
		}
		for _, f := range c.Run(p) {
			if f.Check == "" {
				f.Check = c.ID
			}
			out = append(out, f)
		}
	}
	return out
}

package contract

import "slices"

// ExtraOptions are the docker run options (names without dashes) a role's
// `options:` may carry in ContainerOptions.Extra, beyond the ones with
// fields of their own. The plugin refuses any other key at load time, with
// its file and line; the sidecar applies exactly these.
var ExtraOptions = []string{
	"add-host", "cap-add", "cap-drop", "device", "group-add",
	"health-cmd", "health-interval", "health-retries", "health-start-period", "health-timeout",
	"hostname", "init", "memory-reservation", "memory-swap", "pids-limit", "privileged",
	"security-opt", "shm-size", "stop-signal", "tmpfs", "ulimit", "user", "workdir",
}

// IsExtraOption reports whether name is one of ExtraOptions.
func IsExtraOption(name string) bool { return slices.Contains(ExtraOptions, name) }

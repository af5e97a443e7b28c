package spec

// The environment Kamal itself sets before it reads the config: its
// Configuration.create_from assigns ENV["KAMAL_DESTINATION"] (deleting it
// when there is no destination) before rendering ERB and before the secrets
// files are read, so both see the destination of this run, never a stale
// value left in the shell.

// kamalSetEnv are the variables Kamal assigns for the run, by name.
func kamalSetEnv(destination string) map[string]string {
	return map[string]string{"KAMAL_DESTINATION": destination}
}

// withKamalEnv wraps lookup so the variables Kamal sets win over the
// process environment; an empty one reads as unset, as Ruby's ENV[k] = nil.
func withKamalEnv(lookup func(string) (string, bool), destination string) func(string) (string, bool) {
	set := kamalSetEnv(destination)
	return func(name string) (string, bool) {
		if v, ok := set[name]; ok {
			return v, v != ""
		}
		return lookup(name)
	}
}

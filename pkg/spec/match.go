package spec

import (
	"fmt"
	"path"
)

// MatchHosts keeps the hosts that any of patterns matches, in order (all of
// them when there are no patterns). Patterns are those of Filter.Hosts; a
// malformed one is an error, as it is for Select.
func MatchHosts(hosts, patterns []string) ([]string, error) {
	if len(patterns) == 0 {
		return hosts, nil
	}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("select hosts: bad pattern %q: %w", p, err)
		}
	}
	var out []string
	for _, h := range hosts {
		if matchAny(patterns, h) {
			out = append(out, h)
		}
	}
	return out, nil
}

package spec

import (
	"errors"
	"path"
	"reflect"
	"testing"
)

func TestMatchHosts(t *testing.T) {
	hosts := []string{"10.0.0.1", "10.0.0.2", "db1"}
	tests := []struct {
		patterns []string
		want     []string
		bad      bool
	}{
		{nil, hosts, false},
		{[]string{"10.0.0.*"}, []string{"10.0.0.1", "10.0.0.2"}, false},
		{[]string{"db1", "10.0.0.2"}, []string{"10.0.0.2", "db1"}, false},
		{[]string{"nope"}, nil, false},
		{[]string{"[", "db1"}, nil, true},
	}
	for _, tt := range tests {
		got, err := MatchHosts(hosts, tt.patterns)
		if tt.bad {
			if err == nil || !errors.Is(err, path.ErrBadPattern) {
				t.Errorf("MatchHosts(%q): error %v, want a bad pattern", tt.patterns, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("MatchHosts(%q) = %q, %v; want %q", tt.patterns, got, err, tt.want)
		}
	}
}

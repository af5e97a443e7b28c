package spec

import "testing"

func TestVersionLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"2.12.0", "2.12.0", false},
		{"2.12.0", "2.12.1", true},
		{"2.12.1", "2.12.0", false},
		{"2.12.0", "10.0.0", true},
		{"2.12", "2.12.0", false}, // a missing component is 0
		{"2.12.0", "2.12.0.1", true},
		{"2.12.0", "2.13.0-rc1", true}, // a component counts by its leading number
		{"2.12.0", "2.12.0.beta1", false},
		// Not a number at all counts as 0 (the documented fallback), so a
		// malformed minimum_version is not above this build.
		{"2.12.0", "abc", false},
		{"2.12.0", "x.99", false},
		{"2.12.0", "2.99999999999999999999999", false}, // overflow counts as 0
	}
	for _, tc := range tests {
		if got := versionLess(tc.a, tc.b); got != tc.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

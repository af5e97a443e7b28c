package railsinit

import "testing"

func TestDiff(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"change in middle", "1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\nX\n5\n6\n7\n",
			"--- old\n+++ new\n@@\n 2\n 3\n-4\n+X\n 5\n 6\n"},
		{"append", "a\n", "a\nb\n", "--- old\n+++ new\n a\n+b\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "X\n2\n3\n4\n5\n6\n7\n8\nY\n",
			"--- old\n+++ new\n-1\n+X\n 2\n 3\n@@\n 7\n 8\n-9\n+Y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff("old", "new", tt.old, tt.new); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

package spec

import (
	"reflect"
	"testing"
)

func TestCmdArgs(t *testing.T) {
	for _, tt := range []struct {
		cmd  string
		want []string
	}{
		{"bin/jobs", []string{"bin/jobs"}},
		{"bundle exec sidekiq -q default -c 5", []string{"bundle", "exec", "sidekiq", "-q", "default", "-c", "5"}},
		{`bin/rails runner 'puts "hi there"'`, []string{"bin/rails", "runner", `puts "hi there"`}},
		{`echo "a \"b\"" c\ d`, []string{"echo", `a "b"`, "c d"}},
		{"bin/jobs | tee /tmp/log", []string{"sh", "-c", "bin/jobs | tee /tmp/log"}},
		{"FOO=$BAR bin/jobs", []string{"sh", "-c", "FOO=$BAR bin/jobs"}},
		{`bin/jobs 'unbalanced`, []string{"sh", "-c", `bin/jobs 'unbalanced`}},
	} {
		if got := cmdArgs(tt.cmd); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("cmdArgs(%q) = %q, want %q", tt.cmd, got, tt.want)
		}
	}
}

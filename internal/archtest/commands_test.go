package archtest

import "testing"

// The command layer stays in two floors: cmdline runs a tree it is handed
// and knows no command, and fleetops does the fleet's work without knowing
// the command line. A command package is the only place both meet.
func TestCommandLayers(t *testing.T) {
	tests := []struct {
		pkg   string
		never map[string]string
	}{
		{"./pkg/cmdline", map[string]string{
			module + "/pkg/fleetcmd":  "cmdline is handed the tree; it imports no command",
			module + "/pkg/configcmd": "cmdline is handed the tree; it imports no command",
			module + "/pkg/doctorcmd": "cmdline is handed the tree; it imports no command",
			module + "/pkg/fleetops":  "cmdline does none of the commands' work",
		}},
		{"./pkg/fleetops", map[string]string{
			module + "/pkg/cmdline":  "the fleet operations take options, not the command line",
			module + "/pkg/fleetcmd": "the commands sit on top of the operations",
			"github.com/urfave/cli":  "the fleet operations take options, not flags",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			all := deps(t, tt.pkg)
			for prefix, why := range tt.never {
				if bad := forbidden(all, []string{prefix}); len(bad) > 0 {
					t.Errorf("%s links %v: %s", tt.pkg, bad, why)
				}
			}
		})
	}
}

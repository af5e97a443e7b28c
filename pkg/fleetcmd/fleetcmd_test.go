package fleetcmd

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
	"github.com/dockerkamal/docker-kamal/pkg/transport"
)

func TestAsk(t *testing.T) {
	tests := []struct {
		answer string
		yes    bool
		want   error
	}{
		{"y\n", false, nil},
		{"YES\n", false, nil},
		{"n\n", false, ErrNotConfirmed},
		{"", false, ErrNotConfirmed}, // no terminal: no answer
		{"", true, nil},
	}
	for _, tt := range tests {
		var out strings.Builder
		err := ask(strings.NewReader(tt.answer), &out, tt.yes, "Remove it?")
		if !errors.Is(err, tt.want) {
			t.Errorf("answer %q yes %v: %v, want %v", tt.answer, tt.yes, err, tt.want)
		}
		if asked := out.String() == "Remove it? [y/N] "; asked == tt.yes {
			t.Errorf("answer %q yes %v: asked %q", tt.answer, tt.yes, out.String())
		}
	}
}

func TestExitCode(t *testing.T) {
	remote := fmt.Errorf("h1: %w", &transport.ExitError{Code: 3})
	var ee *cmdline.ExitError
	if err := exitCode(remote); !errors.As(err, &ee) || ee.Code != 3 || !errors.Is(err, remote) {
		t.Errorf("remote exit 3: %v", err)
	}
	killed := &transport.ExitError{Code: -1, Signal: "KILL"}
	if err := exitCode(killed); errors.As(err, &ee) {
		t.Errorf("a killed command kept its code: %v", err)
	}
	plain := errors.New("no such host")
	if err := exitCode(plain); err != plain {
		t.Errorf("a local error changed: %v", err)
	}
}

// TestTreeChecks: the whole fleet tree passes cmdline's check (every node
// runs something, no name twice).
func TestTreeChecks(t *testing.T) {
	var out, errb strings.Builder
	if code := (cmdline.Program{Commands: Commands()}).Run(t.Context(), []string{"docker-kamal", "kamal", "--help"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

package secrets

// `$(kamal secrets ...)` in a secrets file runs our own implementation in
// this process, as Kamal runs its CLI in-process for it: no Ruby Kamal is
// needed, and `bin/kamal` (a Rails app's binstub) means the same. In
// process rather than by re-running our binary, because the binary may be
// a Docker CLI plugin that only runs under `docker`, a test binary, or
// renamed; and Kamal's --inline contract (fetch's JSON comes back
// shell-escaped) is a function call here, not an extra flag on a command
// line.

import (
	"context"
	"fmt"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/secretadapters"
)

// kamalNames are the first words that mean Kamal itself.
var kamalNames = map[string]bool{"kamal": true, "bin/kamal": true, "./bin/kamal": true}

// kamalSecretsArgs returns the words after `secrets` when command (with
// its variables already substituted) is `kamal secrets ...`.
func kamalSecretsArgs(command string) ([]string, bool, error) {
	first := strings.Fields(command)
	if len(first) < 2 || !kamalNames[first[0]] || first[1] != "secrets" {
		return nil, false, nil
	}
	words, err := secretadapters.ShellSplit(command)
	if err != nil {
		return nil, true, fmt.Errorf("split %s secrets command: %w", first[0], err)
	}
	return words[2:], true, nil
}

// inline runs a `kamal secrets` command in process.
func (o Options) inline(ctx context.Context, args, env []string) (string, error) {
	if o.Inline != nil {
		return o.Inline(ctx, args, env)
	}
	return secretadapters.Inline(ctx, args, env)
}

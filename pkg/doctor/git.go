package doctor

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// gitTimeout bounds `git ls-files`.
const gitTimeout = 30 * time.Second

// TrackedFiles lists the files git tracks under root, relative to root. It
// returns (nil, nil) when root is not inside a git work tree or git is
// missing: the secrets-in-git check then has nothing to say.
func TrackedFiles(ctx context.Context, root string) ([]string, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "-C", root, "ls-files", "-z", "--", ".")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if strings.Contains(errb.String(), "not a git repository") {
			return nil, nil
		}
		return nil, fmt.Errorf("list tracked files: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	// Paths are relative to root (git prints them relative to -C).
	var files []string
	for _, f := range strings.Split(out.String(), "\x00") {
		if f == "" {
			continue
		}
		files = append(files, f)
	}
	if files == nil {
		files = []string{}
	}
	return files, nil
}

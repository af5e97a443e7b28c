package build

// The build context Kamal uses by default: a clean clone of HEAD, so what
// is built is what is committed (and named by the version).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cloneTimeout bounds the clone (or refresh) of the app's repository.
const cloneTimeout = 5 * time.Minute

// Clone is a clean checkout of an app's HEAD.
type Clone struct {
	// Dir is the app directory inside the clone (the clone's root unless
	// the app lives in a subdirectory of its repository).
	Dir string
	// Uncommitted lists the work tree's changes the clone leaves out
	// (git status --porcelain lines, trimmed); empty when the tree is clean.
	Uncommitted []string
}

// InGit reports whether dir is inside a git work tree.
func InGit(ctx context.Context, dir string) bool {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	out, err := git(ctx, dir, "rev-parse", "--is-inside-work-tree")
	return err == nil && out == "true"
}

// CloneHEAD makes a clean clone of the HEAD of dir's repository under
// $TMPDIR/kamal-clones (one per repository, refreshed on later builds, as
// Kamal keeps its clone) and returns the app directory in it.
func CloneHEAD(ctx context.Context, dir string) (*Clone, error) {
	ctx, cancel := context.WithTimeout(ctx, cloneTimeout)
	defer cancel()
	root, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("clone HEAD of %s: %w", dir, err)
	}
	sha, err := git(ctx, root, "rev-parse", "HEAD")
	if err != nil {
		return nil, fmt.Errorf("clone HEAD of %s: %w", root, err)
	}
	status, err := git(ctx, root, "status", "--porcelain", "--untracked-files=normal")
	if err != nil {
		return nil, fmt.Errorf("clone HEAD of %s: %w", root, err)
	}
	dest := cloneDir(root)
	if err := refreshClone(ctx, root, dest, sha); err != nil {
		return nil, fmt.Errorf("clone HEAD of %s: %w", root, err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("clone HEAD of %s: %w", dir, err)
	}
	rel, err := filepath.Rel(root, resolved(absDir))
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = "."
	}
	c := &Clone{Dir: filepath.Join(dest, rel)}
	for _, l := range strings.Split(status, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			c.Uncommitted = append(c.Uncommitted, l)
		}
	}
	return c, nil
}

// cloneDir is where root's clone lives: named by the repository's path,
// so two apps never share one.
func cloneDir(root string) string {
	h := sha256.Sum256([]byte(root))
	return filepath.Join(os.TempDir(), "kamal-clones", filepath.Base(root)+"-"+hex.EncodeToString(h[:6]))
}

// refreshClone clones root into dest, or brings an earlier clone to sha
// and removes anything not committed there.
func refreshClone(ctx context.Context, root, dest, sha string) error {
	if _, err := os.Stat(filepath.Join(dest, ".git")); err != nil {
		if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
			return fmt.Errorf("make clone directory: %w", err)
		}
		if err := os.RemoveAll(dest); err != nil {
			return fmt.Errorf("remove stale clone: %w", err)
		}
		if _, err := git(ctx, filepath.Dir(dest), "clone", "--quiet", "--recurse-submodules", root, dest); err != nil {
			return err
		}
	} else if _, err := git(ctx, dest, "fetch", "--quiet", "--recurse-submodules=no", root, sha); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"-c", "advice.detachedHead=false", "checkout", "--quiet", "--force", sha},
		{"clean", "-fdxq"},
		{"submodule", "update", "--quiet", "--init", "--recursive"},
	} {
		if _, err := git(ctx, dest, args...); err != nil {
			return err
		}
	}
	return nil
}

// resolved is p with symlinks resolved (git prints the resolved top level).
func resolved(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

package archtest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const module = "github.com/dockerkamal/docker-kamal"

// deps lists every package pkg links (go list -deps), test files excluded.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{.ImportPath}}", pkg)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// forbidden returns the deps that start with any of prefixes.
func forbidden(all, prefixes []string) []string {
	var bad []string
	for _, d := range all {
		for _, p := range prefixes {
			if d == p || strings.HasPrefix(d, p+"/") {
				bad = append(bad, d)
				break
			}
		}
	}
	return bad
}

func TestEachBinaryLinksOnlyItsSide(t *testing.T) {
	tests := []struct {
		binary string
		// never is what this binary must not link, with the reason.
		never map[string]string
	}{
		{"./plugin", map[string]string{
			module + "/pkg/swap":          "the swap engine runs on the host",
			module + "/pkg/sidecar":       "the sidecar server",
			module + "/pkg/health":        "health probes run on the host",
			module + "/pkg/docker":        "the sidecar's Docker engine client",
			module + "/pkg/traefik":       "the sidecar's Traefik file writer (routes is a sibling, not a child)",
			"github.com/moby/moby/client": "the Docker engine client the sidecar uses",
		}},
		{"./sidecar", map[string]string{
			module + "/pkg/spec":               "the config loader (YAML, ERB)",
			module + "/pkg/secrets":            "secrets run $(command) substitutions",
			module + "/pkg/secretadapters":     "password-manager CLIs run on the laptop",
			module + "/pkg/transport":          "SSH is the plugin's",
			module + "/pkg/sidecarclient":      "the plugin's client",
			module + "/pkg/traefik/routes":     "routing is built in the plugin",
			"github.com/urfave/cli":            "the plugin's command line",
			"gopkg.in/yaml.v3":                 "no YAML on the host side",
			"go.yaml.in":                       "no YAML on the host side",
			"sigs.k8s.io/yaml":                 "no YAML on the host side",
			"github.com/goccy/go-yaml":         "no YAML on the host side",
			"github.com/traefik/traefik":       "Traefik's packages cost ~24 MiB resident",
			"github.com/traefik/paerser":       "Traefik's decoder",
			"golang.org/x/crypto/ssh":          "SSH is the plugin's",
			"github.com/kevinburke/ssh_config": "SSH is the plugin's",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.binary, func(t *testing.T) {
			all := deps(t, tt.binary)
			if len(all) < 10 {
				t.Fatalf("go list -deps %s listed only %d packages", tt.binary, len(all))
			}
			for prefix, why := range tt.never {
				// pkg/traefik/routes shares pkg/traefik's prefix; match
				// the host-side package exactly, its children by name.
				prefixes := []string{prefix}
				if prefix == module+"/pkg/traefik" {
					if bad := exact(all, prefix); len(bad) > 0 {
						t.Errorf("%s links %v: %s", tt.binary, bad, why)
					}
					continue
				}
				if bad := forbidden(all, prefixes); len(bad) > 0 {
					t.Errorf("%s links %v: %s", tt.binary, bad, why)
				}
			}
		})
	}
}

func exact(all []string, pkg string) []string {
	for _, d := range all {
		if d == pkg {
			return []string{d}
		}
	}
	return nil
}

// The contract is a leaf: the standard library only, so either binary can
// link it without the other's dependencies.
func TestContractIsALeaf(t *testing.T) {
	for _, d := range deps(t, "./pkg/contract") {
		if d == module+"/pkg/contract" {
			continue
		}
		if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
			t.Errorf("pkg/contract links %s: it may import the standard library only", d)
		}
	}
}

// Every package says its one job in a doc comment.
func TestEveryPackageHasADocComment(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.ImportPath}}\t{{.Doc}}", "./pkg/...", "./plugin", "./sidecar", "./internal/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 10 {
		t.Fatalf("go list listed %d packages", len(lines))
	}
	for _, l := range lines {
		pkg, doc, _ := strings.Cut(l, "\t")
		if strings.TrimSpace(doc) == "" {
			t.Errorf("%s has no package doc comment", pkg)
		}
	}
}

package spec

import (
	"fmt"
	"reflect"
	"testing"
)

// The refusals' texts, shared with the Kamal corpus test.
const refusedMultiarch = "multi-arch images are not supported: the engine's BuildKit (docker driver) builds one platform and there is no emulation here; " +
	"set one arch (builder.arch: amd64) and give hosts of the other arch a config of their own"

func refusedDriver(d string) string {
	return fmt.Sprintf("driver %q is not supported: docker kamal builds with the engine's own BuildKit (the docker driver); "+
		"docker-container and the other drivers need the moby/buildkit image; remove driver or set driver: docker", d)
}

// TestBuilderRefusals: builder settings Kamal rejects, and those the
// engine's BuildKit cannot carry out here, fail at load with the file, the
// line, the key, why, and what to use instead.
func TestBuilderRefusals(t *testing.T) {
	const head = okHead + "servers: [1.1.1.1]\nbuilder:\n"
	const file = "config/deploy.yml"
	tests := []struct {
		name, yml string
		want      located
	}{
		{"arch list", head + "  arch: [amd64, arm64]\n", located{file, 5, "builder.arch", refusedMultiarch}},
		{"kamal 1 multiarch", head + "  multiarch: true\n", located{file, 5, "builder.multiarch", refusedMultiarch}},
		{"docker-container driver", head + "  arch: amd64\n  driver: docker-container\n", located{file, 6, "builder.driver", refusedDriver("docker-container")}},
		{"cloud driver", head + "  driver: cloud org/builder\n", located{file, 5, "builder.driver", refusedDriver("cloud org/builder")}},
		{"provenance", head + "  provenance: mode=max\n", located{file, 5, "builder.provenance",
			"provenance attestations cannot be stored: the docker driver on this engine (no containerd image store) keeps none; set provenance: false or remove it"}},
		{"sbom", head + "  sbom: true\n", located{file, 5, "builder.sbom",
			"sbom attestations cannot be stored: the docker driver on this engine (no containerd image store) keeps none; set sbom: false or remove it"}},
		{"gha cache", head + "  cache:\n    type: gha\n", located{file, 6, "builder.cache.type",
			"the gha cache is not supported: it needs GitHub Actions' cache service and a docker-container builder; use type: registry"}},
		{"unknown cache type", head + "  cache:\n    type: s3\n", located{file, 6, "builder.cache.type",
			`invalid cache type "s3": want registry (or Kamal's gha, not supported here)`}},
		{"registry cache without a registry", head + "  cache:\n    type: registry\n", located{file, 6, "builder.cache.type",
			"the registry cache needs a registry: section (the cache image is pushed there)"}},
		{"registry cache mode=max", okHead + "servers: [1.1.1.1]\nregistry:\n  server: reg.example\nbuilder:\n  cache:\n    type: registry\n    options: mode=max\n",
			located{file, 9, "builder.cache.options", `"mode=max" cannot be honoured: the docker driver exports the cache inline, in the cache image itself, which holds mode=min only; remove options (or set mode=min)`}},
		{"pack", head + "  arch: amd64\n  pack:\n    builder: heroku/builder:24\n", located{file, 6, "builder.pack",
			"Cloud Native Buildpacks (the pack CLI) are not supported; build with a Dockerfile (builder.dockerfile)"}},
		{"pack with several arches", head + "  arch: [amd64, arm64]\n  pack:\n    builder: heroku/builder:24\n", located{file, 6, "builder.pack",
			"buildpacks build for one arch only; set a single builder.arch"}},
		{"local false without remote", head + "  arch: amd64\n  local: false\n", located{file, 6, "builder.local",
			"local: false needs a remote builder: set builder.remote: ssh://user@host"}},
		{"tcp remote", head + "  remote: tcp://1.1.1.9:2375\n", located{file, 5, "builder.remote",
			`"tcp://1.1.1.9:2375": a remote builder is reached over SSH; use ssh://user@host (tcp:// and other Docker endpoints are not supported)`}},
		{"kamal 1 remote host", head + "  remote:\n    arch: amd64\n    host: unix:///var/run/docker.sock\n", located{file, 7, "builder.remote.host",
			`"unix:///var/run/docker.sock": a remote builder is reached over SSH; use ssh://user@host (tcp:// and other Docker endpoints are not supported)`}},
		{"kamal 1 local host", head + "  local:\n    arch: amd64\n    host: unix:///Users/me/.docker/run/docker.sock\n", located{file, 7, "builder.local.host",
			"Kamal 1's local builder on another Docker host is not supported; build there over SSH with builder.remote: ssh://user@host"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadYAML(t, tc.yml)
			if got, ok := locate(err); !ok || got != tc.want {
				t.Fatalf("error %v\n  got  %#v\n  want %#v", err, got, tc.want)
			}
		})
	}
}

// TestBuilderAccepted: the builder keys that load, as the build reads them
// (pkg/build's and the e2e builder tests show each one's effect).
func TestBuilderAccepted(t *testing.T) {
	no := false
	tests := []struct {
		name, yml string
		want      Builder
	}{
		{"kamal 2", "  arch: amd64\n  remote: ssh://app@1.1.1.5:2122\n  local: false\n  context: .\n  dockerfile: Dockerfile.prod\n  target: app\n" +
			"  args:\n    RUBY: \"3.3\"\n  secrets: [GITHUB_TOKEN]\n  ssh: default=$SSH_AUTH_SOCK\n  driver: docker\n  provenance: false\n  sbom: false\n" +
			"  cache:\n    type: registry\n    image: app-cache\n    options: mode=min\n",
			Builder{Arch: []string{"amd64"}, Remote: "ssh://app@1.1.1.5:2122", Local: &no, Context: ".", Dockerfile: "Dockerfile.prod", Target: "app",
				Args: map[string]string{"RUBY": "3.3"}, Secrets: []string{"GITHUB_TOKEN"}, SSH: "default=$SSH_AUTH_SOCK", Driver: "docker",
				Provenance: "false", SBOM: "false", Cache: &BuilderCache{Type: "registry", Image: "app-cache", Options: "mode=min"}}},
		{"kamal 1 remote mapping", "  remote:\n    arch: amd64\n    host: ssh://root@1.1.1.5\n  multiarch: false\n",
			Builder{Arch: []string{"amd64"}, Remote: "ssh://root@1.1.1.5", Multiarch: &no}},
		{"kamal 1 local arch", "  local:\n    arch: arm64\n", Builder{Arch: []string{"arm64"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadYAML(t, okHead+"servers: [1.1.1.1]\nregistry:\n  server: reg.example\nbuilder:\n"+tc.yml)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Builder, tc.want) {
				t.Errorf("builder\n got %+v\nwant %+v", c.Builder, tc.want)
			}
		})
	}
}

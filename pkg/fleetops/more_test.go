package fleetops

import (
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
	"github.com/dockerkamal/docker-kamal/pkg/traefik"
)

func TestProxyContainerMatchesTraefik(t *testing.T) {
	if proxyContainer != traefik.DefaultContainerName {
		t.Errorf("proxyContainer %q != traefik.DefaultContainerName %q", proxyContainer, traefik.DefaultContainerName)
	}
}

func TestRollingWarning(t *testing.T) {
	tests := []struct {
		hosts   []string
		rolling bool
		want    string
	}{
		{[]string{"h1"}, true, "cannot be zero-downtime"},
		{[]string{"h1"}, false, "cannot be zero-downtime"},
		{[]string{"h1", "h2"}, true, "only if a load balancer"},
		{[]string{"h1", "h2"}, false, "use --rolling"},
	}
	for _, tt := range tests {
		if got := RollingWarning(tt.hosts, tt.rolling); !strings.Contains(got, tt.want) {
			t.Errorf("RollingWarning(%v, %v) = %q, want it to say %q", tt.hosts, tt.rolling, got, tt.want)
		}
	}
}

func TestPruneCandidatesPerRole(t *testing.T) {
	cs := []container{
		{Name: "web-v5", Role: "web", State: "running"},
		{Name: "web-v4", Role: "web", State: "exited"},
		{Name: "job-v4", Role: "job", State: "exited"},
		{Name: "web-v3", Role: "web", State: "exited"},
		{Name: "web-v2", Role: "web", State: "exited"},
		{Name: "job-v3", Role: "job", State: "exited"},
	}
	names := func(cs []container) string {
		var n []string
		for _, c := range cs {
			n = append(n, c.Name)
		}
		return strings.Join(n, ",")
	}
	for _, tt := range []struct {
		retain int
		want   string
	}{{0, "web-v4,job-v4,web-v3,web-v2,job-v3"}, {1, "web-v3,web-v2,job-v3"}, {2, "web-v2"}, {5, ""}} {
		if got := names(pruneCandidates(cs, tt.retain)); got != tt.want {
			t.Errorf("retain %d: prune %q, want %q", tt.retain, got, tt.want)
		}
	}
	// Another destination's containers never reach pruneCandidates.
	other := parsePS("id\tapp-web-staging-v1\tweb\tstaging\tv1\texited\ti\tExited\n", "", "")
	if len(pruneCandidates(other, 0)) != 0 {
		t.Errorf("a staging container was a candidate for the default destination")
	}
}

func TestPruneImagesScript(t *testing.T) {
	got := pruneImagesScript("reg/app", "app")
	for _, want := range []string{"docker image ls --format '{{.Repository}}:{{.Tag}}' reg/app", `docker image rm "$i"`, "grep -v -e ':latest$'", "label=service=app"} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "rm -f") || strings.Contains(got, "--force \"$i\"") {
		t.Errorf("image removal must not force (images in use stay):\n%s", got)
	}
}

func TestMergeAudit(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	got := mergeAudit(map[string][]contract.AuditEntry{
		"h2": {{Time: t0.Add(time.Second), Who: "bob", Action: "deploy", What: "app v2", Result: "ok"}},
		"h1": {{Time: t0, Who: "al", Action: "lock", Host: "h1"}, {Time: t0.Add(2 * time.Second), Who: "al", Action: "unlock"}},
	})
	var lines []string
	for _, e := range got {
		lines = append(lines, auditLine(e))
	}
	want := []string{
		"2026-01-02T03:04:05Z [h1] al lock",
		"2026-01-02T03:04:06Z [h2] bob deploy app v2: ok",
		"2026-01-02T03:04:07Z [h1] al unlock",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("merged:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestBootstrapScript(t *testing.T) {
	s := bootstrapScript("kamal")
	for _, want := range []string{
		"command -v docker",
		"apt-get install -y -q docker.io",
		"sudo -n true",
		"only Debian and Ubuntu",
		"docker network create kamal",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("bootstrap script lacks %q", want)
		}
	}
	if strings.Contains(s, "curl") || strings.Contains(s, "get.docker.com") {
		t.Errorf("bootstrap must use the distribution's own packages")
	}
}

func TestRegistryLogoutArgs(t *testing.T) {
	for _, tt := range []struct {
		reg  *spec.Registry
		want string
	}{
		{&spec.Registry{Username: "me"}, "logout"},
		{&spec.Registry{Server: "ghcr.io", Username: "me", Password: "tok-123456"}, "logout ghcr.io"},
	} {
		if got := strings.Join(registryLogoutArgs(tt.reg), " "); got != tt.want {
			t.Errorf("logout args = %q, want %q", got, tt.want)
		}
	}
}

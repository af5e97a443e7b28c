package configcmd

import (
	"reflect"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/docs"
)

func TestDocsWholeReference(t *testing.T) {
	out, errOut, code := run(t, t.TempDir(), "docs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != docs.ConfigReference || !strings.HasPrefix(out, "# Config reference\n") {
		t.Fatalf("docs did not print config.md as it is:\n%s", out)
	}
}

func TestDocsSection(t *testing.T) {
	for _, args := range [][]string{{"docs", "proxy"}, {"docs", "PROXY"}, {"-d", "staging", "docs", "proxy"}} {
		out, errOut, code := run(t, t.TempDir(), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if !strings.HasPrefix(out, "## Proxy\n") || !strings.Contains(out, "app_port") {
			t.Fatalf("%v: not the proxy section:\n%s", args, out)
		}
		if strings.Count(out, "\n## ") != 0 || strings.Contains(out, "# Config reference") {
			t.Fatalf("%v: more than the proxy section:\n%s", args, out)
		}
	}
	// Kamal's singular name reaches our section.
	out, _, code := run(t, t.TempDir(), "docs", "accessory")
	if code != 0 || !strings.HasPrefix(out, "## Accessories\n") || !strings.Contains(out, ".erb") {
		t.Fatalf("docs accessory: exit %d:\n%s", code, out)
	}
}

func TestDocsUnknownSection(t *testing.T) {
	out, errOut, code := run(t, t.TempDir(), "docs", "nope")
	if code == 0 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, `no docs section "nope"`) || !strings.Contains(errOut, "proxy, accessories") {
		t.Fatalf("error does not list the sections: %s", errOut)
	}
	if _, _, code := run(t, t.TempDir(), "docs", "proxy", "ssh"); code == 0 {
		t.Fatal("two sections: exit 0")
	}
}

// TestDocsSectionsExist keeps config.md's headings and the names users
// reach them by in step: renaming a heading fails here, not for a user.
func TestDocsSectionsExist(t *testing.T) {
	want := []string{"files", "erb", "secrets", "keys", "servers", "roles", "env", "registry", "builder", "ssh",
		"boot", "proxy", "accessories", "aliases", "traefik", "healthcheck", "migrations", "sidecar"}
	for _, n := range kamalSectionNames {
		want = append(want, n)
	}
	for _, name := range want {
		if _, err := docsText(docs.ConfigReference, name); err != nil {
			t.Errorf("section %s: %v", name, err)
		}
	}
}

func TestDocSections(t *testing.T) {
	md := "# Title\nintro\n\n## One\na\n\n```\n## not a heading\n```\n\n## `Two` words\nb\n"
	got := docSections(md)
	want := []docSection{
		{name: "one", text: "## One\na\n\n```\n## not a heading\n```\n"},
		{name: "two-words", text: "## `Two` words\nb\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sections\n got %q\nwant %q", got, want)
	}
}

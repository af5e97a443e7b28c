package configcmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/dockerkamal/docker-kamal/docs"
	"github.com/dockerkamal/docker-kamal/pkg/cmdline"
)

// kamalSectionNames maps the section names of `kamal docs` that differ from
// our headings, so a Kamal user's habit works.
var kamalSectionNames = map[string]string{
	"accessory":     "accessories",
	"alias":         "aliases",
	"role":          "roles",
	"configuration": "keys",
	"sshkit":        "ssh",
}

// runDocs prints the config reference, or the one section named.
func runDocs(_ context.Context, g *cmdline.Globals, c *cli.Context) error {
	if c.NArg() > 1 {
		return fmt.Errorf("docs takes at most one SECTION, got %d arguments", c.NArg())
	}
	text, err := docsText(docs.ConfigReference, c.Args().First())
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(g.Stdout, text)
	return err
}

// docsText is the whole reference when name is empty, else its section
// called name (case-insensitive, or by Kamal's name for it).
func docsText(ref, name string) (string, error) {
	if name == "" {
		return ref, nil
	}
	secs := docSections(ref)
	want := strings.ToLower(name)
	if n, ok := kamalSectionNames[want]; ok {
		want = n
	}
	names := make([]string, 0, len(secs))
	for _, s := range secs {
		if s.name == want {
			return s.text, nil
		}
		names = append(names, s.name)
	}
	return "", fmt.Errorf("no docs section %q; sections: %s", name, strings.Join(names, ", "))
}

// docSection is one `## ` part of a Markdown document, heading included.
type docSection struct {
	// name is the heading lowercased, spaces as "-": "## SSH" is "ssh".
	name string
	text string
}

// docSections splits md at its `## ` headings (not those inside fenced
// code blocks); the text before the first heading is left out.
func docSections(md string) []docSection {
	var secs []docSection
	var cur *strings.Builder
	fenced := false
	flush := func() {
		if cur != nil {
			secs[len(secs)-1].text = strings.TrimRight(cur.String(), "\n") + "\n"
		}
	}
	for _, line := range strings.SplitAfter(md, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && strings.HasPrefix(line, "## ") {
			flush()
			heading := strings.TrimSpace(strings.TrimPrefix(line, "## "))
			heading = strings.ReplaceAll(heading, "`", "")
			secs = append(secs, docSection{name: strings.ToLower(strings.Join(strings.Fields(heading), "-"))})
			cur = &strings.Builder{}
		}
		if cur != nil {
			cur.WriteString(line)
		}
	}
	flush()
	return secs
}

package doctor

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// locator finds where a key of the deploy config is written, so findings
// about the loaded (merged, rendered) config can name file and line. It
// reads the raw files only for positions; meaning comes from pkg/spec.
type locator struct {
	// docs are the config files, most specific first (destination, base).
	docs []locatedDoc
}

type locatedDoc struct {
	file string
	src  *SourceFile
	root *yaml.Node // nil when the raw file is not plain YAML (ERB blocks)
}

// addFile registers a config file; later files take precedence.
func (l *locator) addFile(rel string, data []byte) {
	d := locatedDoc{file: rel, src: newSourceFile(rel, data)}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) == nil && doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		d.root = doc.Content[0]
	}
	l.docs = append([]locatedDoc{d}, l.docs...)
}

// keySep separates the segments of a key path: keys (hosts, env names) may
// contain dots.
const keySep = "\x1f"

// kp builds a key path from its segments.
func kp(segs ...string) string { return strings.Join(segs, keySep) }

// Pos is a place in a file.
type Pos struct {
	File string
	Line int
}

// node returns the value node at a dotted key path and its file; an integer
// segment indexes a sequence.
func (l *locator) node(path string) (*yaml.Node, *yaml.Node, string) {
	for _, d := range l.docs {
		if d.root == nil {
			continue
		}
		if k, v := walk(d.root, strings.Split(path, keySep)); k != nil {
			return k, v, d.file
		}
	}
	return nil, nil, ""
}

func walk(n *yaml.Node, segs []string) (key, val *yaml.Node) {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if len(segs) == 0 || n == nil {
		return nil, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == segs[0] {
				if len(segs) == 1 {
					return n.Content[i], n.Content[i+1]
				}
				return walk(n.Content[i+1], segs[1:])
			}
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			if segs[0] == strconv.Itoa(i) {
				if len(segs) == 1 {
					return e, e
				}
				return walk(e, segs[1:])
			}
			// A host list entry may be a mapping `- host: [tags]`.
			if e.Kind == yaml.ScalarNode && e.Value == segs[0] && len(segs) == 1 {
				return e, e
			}
			if e.Kind == yaml.MappingNode && len(e.Content) == 2 && e.Content[0].Value == segs[0] && len(segs) == 1 {
				return e.Content[0], e.Content[1]
			}
		}
	}
	return nil, nil
}

// Has reports whether the key is written in any config file.
func (l *locator) Has(path string) bool {
	k, _, _ := l.node(path)
	return k != nil
}

// At returns where the key at path is written. When the key is not written
// (a default), it returns the nearest written parent; at worst the first line
// of the base file.
func (l *locator) At(path string) Pos {
	segs := strings.Split(path, keySep)
	for n := len(segs); n > 0; n-- {
		if k, _, f := l.node(strings.Join(segs[:n], keySep)); k != nil {
			return Pos{File: f, Line: k.Line}
		}
		// Raw file is not plain YAML: find `key:` textually.
		for _, d := range l.docs {
			if d.root != nil {
				continue
			}
			re := regexp.MustCompile(`^\s*-?\s*` + regexp.QuoteMeta(segs[n-1]) + `\s*:`)
			if m, ok := d.src.First(re); ok {
				return Pos{File: d.file, Line: m.Line}
			}
		}
	}
	return l.Base()
}

// Base is the base config file, line 1.
func (l *locator) Base() Pos {
	if len(l.docs) == 0 {
		return Pos{File: DefaultConfigFile}
	}
	return Pos{File: l.docs[len(l.docs)-1].file, Line: 1}
}

// SourceLine returns the raw text at a position (to tell a literal from an
// ERB expression); "" when unknown.
func (l *locator) SourceLine(p Pos) string {
	for _, d := range l.docs {
		if d.file == p.File && p.Line > 0 && p.Line <= len(d.src.Lines) {
			return d.src.Lines[p.Line-1]
		}
	}
	return ""
}

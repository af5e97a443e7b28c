package spec

// YAML node plumbing for the config loader: every node remembers the file it
// came from, anchors and merge keys are expanded into a plain tree, and
// destination files are deep-merged over the base, so that any error later on
// can name the right file, line and key path.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds alias expansion so a small document cannot blow up into a
// huge tree (the "billion laughs" shape).
const maxNodes = 200000

// tree is a parsed, expanded config document with the origin of every node.
type tree struct {
	origin map[*yaml.Node]string
	// keyOf maps a mapping value to its key, so errors about a whole
	// block point at the key's line rather than the block's first line.
	keyOf map[*yaml.Node]*yaml.Node
}

func newTree() *tree {
	return &tree{origin: map[*yaml.Node]string{}, keyOf: map[*yaml.Node]*yaml.Node{}}
}

// errAt builds an *Error for node n at key path.
func (t *tree) errAt(n *yaml.Node, path, format string, args ...any) *Error {
	e := &Error{Key: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.File = t.origin[n]
		e.Line = n.Line
		if k, ok := t.keyOf[n]; ok && n.Kind != yaml.ScalarNode {
			e.Line = k.Line
		}
	}
	return e
}

// parseYAML parses one rendered file into an expanded node tree whose nodes
// are all recorded as coming from file.
func (t *tree) parseYAML(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: file, Line: yamlErrLine(err), Msg: "invalid YAML: " + yamlErrMsg(err)}
	}
	if doc.Kind == 0 {
		// Empty file: an empty mapping.
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1}
		t.origin[n] = file
		return n, nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{File: file, Line: doc.Line, Msg: "expected one YAML document"}
	}
	budget := maxNodes
	root, err := t.expand(file, doc.Content[0], &budget, 0)
	if err != nil {
		return nil, err
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: root.Line}
		t.origin[root] = file
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: root.Line, Msg: "the config must be a mapping of keys"}
	}
	return root, nil
}

// expand copies n, replacing aliases by (copies of) their anchors and merge
// keys (<<) by the keys they merge, bounded by budget nodes.
func (t *tree) expand(file string, n *yaml.Node, budget *int, depth int) (*yaml.Node, error) {
	*budget--
	if *budget < 0 {
		return nil, &Error{File: file, Line: n.Line, Msg: "document too large after expanding aliases"}
	}
	if depth > 100 {
		return nil, &Error{File: file, Line: n.Line, Msg: "document nested too deeply"}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, &Error{File: file, Line: n.Line, Msg: "unknown alias"}
		}
		return t.expand(file, n.Alias, budget, depth+1)
	case yaml.ScalarNode:
		return t.copyScalar(file, n), nil
	case yaml.SequenceNode:
		c := &yaml.Node{Kind: n.Kind, Tag: "!!seq", Line: n.Line, Column: n.Column}
		t.origin[c] = file
		for _, e := range n.Content {
			x, err := t.expand(file, e, budget, depth+1)
			if err != nil {
				return nil, err
			}
			c.Content = append(c.Content, x)
		}
		return c, nil
	case yaml.MappingNode:
		c := &yaml.Node{Kind: n.Kind, Tag: "!!map", Line: n.Line, Column: n.Column}
		t.origin[c] = file
		var merged []*yaml.Node // mappings pulled in by <<, lowest priority
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.ShortTag() == "!!merge") {
				x, err := t.expand(file, v, budget, depth+1)
				if err != nil {
					return nil, err
				}
				switch x.Kind {
				case yaml.MappingNode:
					merged = append(merged, x)
				case yaml.SequenceNode:
					for _, m := range x.Content {
						if m.Kind != yaml.MappingNode {
							return nil, &Error{File: file, Line: m.Line, Msg: "<< must merge mappings"}
						}
						merged = append(merged, m)
					}
				default:
					return nil, &Error{File: file, Line: v.Line, Msg: "<< must merge a mapping"}
				}
				continue
			}
			kx, err := t.expandKey(file, k, budget, depth+1)
			if err != nil {
				return nil, err
			}
			vx, err := t.expand(file, v, budget, depth+1)
			if err != nil {
				return nil, err
			}
			c.Content = append(c.Content, kx, vx)
			t.keyOf[vx] = kx
		}
		// Explicit keys win over merged ones; earlier merge sources win over later.
		for _, m := range merged {
			for i := 0; i+1 < len(m.Content); i += 2 {
				if mapGet(c, m.Content[i].Value) == nil {
					c.Content = append(c.Content, m.Content[i], m.Content[i+1])
				}
			}
		}
		return c, nil
	case yaml.DocumentNode:
		return nil, &Error{File: file, Line: n.Line, Msg: "nested document"}
	}
	return nil, &Error{File: file, Line: n.Line, Msg: "unsupported YAML node"}
}

// mapGet returns the value node of key in mapping m, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// deepMerge merges over into base as Kamal does (Hash#deep_merge): mappings
// merge key by key, anything else in over replaces what base had.
func (t *tree) deepMerge(base, over *yaml.Node) *yaml.Node {
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: base.Line, Column: base.Column}
	t.origin[out] = t.origin[base]
	if k, ok := t.keyOf[base]; ok {
		t.keyOf[out] = k
	}
	out.Content = append(out.Content, base.Content...)
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := over.Content[i], over.Content[i+1]
		replaced := false
		for j := 0; j+1 < len(out.Content); j += 2 {
			if out.Content[j].Value == k.Value {
				out.Content[j+1] = t.deepMerge(out.Content[j+1], v)
				if out.Content[j+1] == v {
					t.keyOf[v] = k
				}
				replaced = true
				break
			}
		}
		if !replaced {
			out.Content = append(out.Content, k, v)
		}
	}
	return out
}

// yamlErrLine and yamlErrMsg take a yaml.v3 parse error apart into its line
// and its message. yaml.v3 reports syntax errors only as text ("yaml: line
// 4: did not find expected key"), with no typed position to read instead,
// so the text is all there is; this classifies nothing, it only relocates
// the line into our *Error. A format it does not recognise keeps the whole
// message and line 0.
func yamlErrLine(err error) int {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(rest[:j]); err == nil {
			return n
		}
	}
	return 0
}

// yamlErrMsg: see yamlErrLine.
func yamlErrMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, "line "); i >= 0 {
		if j := strings.Index(msg[i:], ": "); j >= 0 {
			return msg[i+j+2:]
		}
	}
	return msg
}

// copyScalar copies a scalar; a plain one takes the value Kamal's YAML
// loader gives it (see yaml11.go).
func (t *tree) copyScalar(file string, n *yaml.Node) *yaml.Node {
	c := &yaml.Node{Kind: n.Kind, Tag: n.ShortTag(), Value: n.Value, Style: n.Style, Line: n.Line, Column: n.Column}
	if n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		c.Value, c.Tag = psychScalar(n.Value)
	}
	t.origin[c] = file
	return c
}

// expandKey expands a mapping key. Keys name things (sections, env names,
// labels): a scalar one is kept as written, not read as a Psych value.
func (t *tree) expandKey(file string, k *yaml.Node, budget *int, depth int) (*yaml.Node, error) {
	kx, err := t.expand(file, k, budget, depth)
	if err == nil && k.Kind == yaml.ScalarNode {
		kx.Value, kx.Tag = k.Value, k.ShortTag()
	}
	return kx, err
}

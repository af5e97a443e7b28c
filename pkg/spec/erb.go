package spec

// A deliberately small ERB: the forms Kamal users put in deploy.yml are
// evaluated, anything else is an error naming file and line rather than being
// passed through as text. Supported inside <%= %>:
//
//	"literal" / 'literal'
//	ENV["X"]  ENV['X']                  (empty when unset)
//	ENV.fetch("X")                      (error when unset)
//	ENV.fetch("X", "default")  ENV.fetch("X") { "default" }
//	Kamal::Utils.docker_arch            ("amd64" or "arm64", the local arch)
//	a == b, a != b, cond ? a : b, ( ... )
//
// <%# comments %> are dropped and <%% is a literal <%. ERB inside YAML
// comment lines of the config is left untouched; other files (accessory
// `files:` templates, see RenderERBFile) have no such exception, because
// their `#` lines need not be comments.

import (
	"fmt"
	"strings"
)

// erbEnv is what ERB expressions can see.
type erbEnv struct {
	lookup func(string) (string, bool)
	arch   string
	// plainText renders tags on lines starting with # too: the text is not
	// YAML, so such a line is not known to be a comment.
	plainText bool
}

// RenderERBFile renders the ERB tags of a file that is not the config (an
// accessory `files:` template) with the same small evaluator as deploy.yml:
// ENV["X"] and ENV.fetch read lookup. An unsupported construct or an unset
// ENV.fetch is an *Error naming path and line. The output may hold secret
// values; errors never do (they quote the tag, not what it evaluated to).
func RenderERBFile(path string, src []byte, lookup func(string) (string, bool)) ([]byte, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	return renderERB(path, src, erbEnv{lookup: lookup, arch: localArch(), plainText: true})
}

// renderERB evaluates the ERB tags of src.
func renderERB(file string, src []byte, env erbEnv) ([]byte, error) {
	s := string(src)
	if !strings.Contains(s, "<%") {
		return src, nil
	}
	var out strings.Builder
	line := 1
	for {
		i := strings.Index(s, "<%")
		if i < 0 {
			out.WriteString(s)
			break
		}
		before := s[:i]
		out.WriteString(before)
		line += strings.Count(before, "\n")
		s = s[i:]
		if strings.HasPrefix(s, "<%%") {
			out.WriteString("<%")
			s = s[3:]
			continue
		}
		end := strings.Index(s[2:], "%>")
		if end >= 0 {
			end += 2
		}
		if end < 0 {
			return nil, &Error{File: file, Line: line, Msg: "ERB tag <% is not closed with %>"}
		}
		tag := s[:end+2]
		s = s[end+2:]
		if !env.plainText && inYAMLComment(out.String()) {
			out.WriteString(tag)
			line += strings.Count(tag, "\n")
			continue
		}
		body := tag[2 : len(tag)-2]
		body = strings.TrimSuffix(body, "-")
		switch {
		case strings.HasPrefix(body, "#"):
			// ERB comment.
		case strings.HasPrefix(body, "="):
			v, err := evalERB(strings.TrimSpace(body[1:]), env)
			if err != nil {
				return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("ERB %s: %v", strings.TrimSpace(tag), err)}
			}
			out.WriteString(v.String())
		default:
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("ERB %s: only <%%= ... %%> output tags are supported (ENV[\"X\"], ENV.fetch(\"X\", \"default\"), string literals)", strings.TrimSpace(tag))}
		}
		line += strings.Count(tag, "\n")
	}
	return []byte(out.String()), nil
}

// inYAMLComment reports whether the current line of text so far is a YAML
// comment line.
func inYAMLComment(text string) bool {
	lineStart := strings.LastIndexByte(text, '\n') + 1
	return strings.HasPrefix(strings.TrimSpace(text[lineStart:]), "#")
}

// erbValue is a Ruby value as far as we need one: nil, a string or a bool.
type erbValue struct {
	kind byte // 'n' nil, 's' string, 'b' bool
	s    string
	b    bool
}

func (v erbValue) String() string {
	switch v.kind {
	case 's':
		return v.s
	case 'b':
		if v.b {
			return "true"
		}
		return "false"
	}
	return ""
}

func (v erbValue) truthy() bool { return v.kind == 's' || (v.kind == 'b' && v.b) }

func (v erbValue) equal(o erbValue) bool {
	return v.kind == o.kind && v.s == o.s && v.b == o.b
}

type erbParser struct {
	src string
	pos int
	env erbEnv
}

func evalERB(expr string, env erbEnv) (erbValue, error) {
	p := &erbParser{src: expr, env: env}
	v, err := p.ternary(0)
	if err != nil {
		return erbValue{}, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return erbValue{}, fmt.Errorf("unsupported expression at %q", p.src[p.pos:])
	}
	return v, nil
}

func (p *erbParser) skipSpace() {
	for p.pos < len(p.src) && strings.ContainsRune(" \t\r\n", rune(p.src[p.pos])) {
		p.pos++
	}
}

func (p *erbParser) accept(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *erbParser) expect(tok string) error {
	if !p.accept(tok) {
		return fmt.Errorf("expected %q at %q", tok, p.src[p.pos:])
	}
	return nil
}

func (p *erbParser) ternary(depth int) (erbValue, error) {
	if depth > 20 {
		return erbValue{}, fmt.Errorf("expression nested too deeply")
	}
	cond, err := p.comparison(depth)
	if err != nil {
		return erbValue{}, err
	}
	if !p.accept("?") {
		return cond, nil
	}
	a, err := p.ternary(depth + 1)
	if err != nil {
		return erbValue{}, err
	}
	if err := p.expect(":"); err != nil {
		return erbValue{}, err
	}
	b, err := p.ternary(depth + 1)
	if err != nil {
		return erbValue{}, err
	}
	if cond.truthy() {
		return a, nil
	}
	return b, nil
}

func (p *erbParser) comparison(depth int) (erbValue, error) {
	a, err := p.primary(depth)
	if err != nil {
		return erbValue{}, err
	}
	switch {
	case p.accept("=="):
		b, err := p.primary(depth)
		if err != nil {
			return erbValue{}, err
		}
		return erbValue{kind: 'b', b: a.equal(b)}, nil
	case p.accept("!="):
		b, err := p.primary(depth)
		if err != nil {
			return erbValue{}, err
		}
		return erbValue{kind: 'b', b: !a.equal(b)}, nil
	}
	return a, nil
}

func (p *erbParser) primary(depth int) (erbValue, error) {
	p.skipSpace()
	rest := p.src[p.pos:]
	switch {
	case strings.HasPrefix(rest, "("):
		p.pos++
		v, err := p.ternary(depth + 1)
		if err != nil {
			return erbValue{}, err
		}
		return v, p.expect(")")
	case strings.HasPrefix(rest, `"`), strings.HasPrefix(rest, `'`):
		s, err := p.str()
		return erbValue{kind: 's', s: s}, err
	case strings.HasPrefix(rest, "ENV.fetch"):
		p.pos += len("ENV.fetch")
		return p.envFetch(depth)
	case strings.HasPrefix(rest, "ENV"):
		p.pos += len("ENV")
		if err := p.expect("["); err != nil {
			return erbValue{}, err
		}
		name, err := p.str()
		if err != nil {
			return erbValue{}, err
		}
		if err := p.expect("]"); err != nil {
			return erbValue{}, err
		}
		if v, ok := p.env.lookup(name); ok {
			return erbValue{kind: 's', s: v}, nil
		}
		return erbValue{kind: 'n'}, nil
	case strings.HasPrefix(rest, "Kamal::Utils.docker_arch"):
		p.pos += len("Kamal::Utils.docker_arch")
		return erbValue{kind: 's', s: p.env.arch}, nil
	case strings.HasPrefix(rest, "nil"):
		p.pos += 3
		return erbValue{kind: 'n'}, nil
	case strings.HasPrefix(rest, "true"):
		p.pos += 4
		return erbValue{kind: 'b', b: true}, nil
	case strings.HasPrefix(rest, "false"):
		p.pos += 5
		return erbValue{kind: 'b'}, nil
	}
	if rest == "" {
		return erbValue{}, fmt.Errorf("empty expression")
	}
	return erbValue{}, fmt.Errorf("unsupported expression %q", rest)
}

// envFetch parses the arguments after ENV.fetch.
func (p *erbParser) envFetch(depth int) (erbValue, error) {
	if err := p.expect("("); err != nil {
		return erbValue{}, err
	}
	name, err := p.str()
	if err != nil {
		return erbValue{}, err
	}
	var def *erbValue
	if p.accept(",") {
		d, err := p.ternary(depth + 1)
		if err != nil {
			return erbValue{}, err
		}
		def = &d
	}
	if err := p.expect(")"); err != nil {
		return erbValue{}, err
	}
	if def == nil && p.accept("{") {
		d, err := p.ternary(depth + 1)
		if err != nil {
			return erbValue{}, err
		}
		if err := p.expect("}"); err != nil {
			return erbValue{}, err
		}
		def = &d
	}
	if v, ok := p.env.lookup(name); ok {
		return erbValue{kind: 's', s: v}, nil
	}
	if def != nil {
		return *def, nil
	}
	return erbValue{}, fmt.Errorf("environment variable %s is not set", name)
}

// str parses a Ruby string literal without interpolation.
func (p *erbParser) str() (string, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return "", fmt.Errorf("expected a string literal")
	}
	q := p.src[p.pos]
	if q != '"' && q != '\'' {
		return "", fmt.Errorf("expected a string literal at %q", p.src[p.pos:])
	}
	var b strings.Builder
	for i := p.pos + 1; i < len(p.src); i++ {
		c := p.src[i]
		switch {
		case c == q:
			p.pos = i + 1
			return b.String(), nil
		case c == '\\' && i+1 < len(p.src):
			i++
			n := p.src[i]
			if q == '\'' {
				if n != '\'' && n != '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(n)
				continue
			}
			switch n {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(n)
			}
		case q == '"' && c == '#' && i+1 < len(p.src) && p.src[i+1] == '{':
			return "", fmt.Errorf("string interpolation #{...} is not supported")
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated string literal")
}

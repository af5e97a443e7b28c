package secrets

// The dotenv parser: KEY=value lines, quoting, comments, and $VAR, ${VAR}
// and $(command) substitution.

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// Parse reads one dotenv document. Values of earlier keys in the same file
// are visible to later substitutions, then the process environment.
func Parse(ctx context.Context, file string, data []byte, opts Options) (map[string]string, error) {
	p := &parser{file: file, src: string(data), line: 1, opts: opts, vals: map[string]string{}}
	if err := p.parse(ctx); err != nil {
		return nil, err
	}
	return p.vals, nil
}

type parser struct {
	file string
	src  string
	pos  int
	line int
	opts Options
	vals map[string]string
}

func (p *parser) errf(line int, format string, args ...any) *Error {
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse(ctx context.Context) error {
	for p.pos < len(p.src) {
		if err := p.entry(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) skipBlanks() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

// restOfLine consumes up to and including the next newline.
func (p *parser) restOfLine() string {
	i := strings.IndexByte(p.src[p.pos:], '\n')
	var s string
	if i < 0 {
		s = p.src[p.pos:]
		p.pos = len(p.src)
	} else {
		s = p.src[p.pos : p.pos+i]
		p.pos += i + 1
		p.line++
	}
	return s
}

func isKeyByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// entry parses one line (or a multi-line quoted entry).
func (p *parser) entry(ctx context.Context) error {
	start := p.line
	p.skipBlanks()
	switch p.peek() {
	case '\n':
		p.pos++
		p.line++
		return nil
	case '#', 0:
		p.restOfLine()
		return nil
	}
	if strings.HasPrefix(p.src[p.pos:], "export ") || strings.HasPrefix(p.src[p.pos:], "export\t") {
		p.pos += len("export")
		p.skipBlanks()
	}
	k := p.pos
	for p.pos < len(p.src) && isKeyByte(p.src[p.pos]) {
		p.pos++
	}
	key := p.src[k:p.pos]
	if key == "" {
		return p.errf(start, "expected KEY=value")
	}
	p.skipBlanks()
	switch p.peek() {
	case '=':
		p.pos++
	case ':':
		p.pos++
	case '\n', 0, '#':
		// A bare key (dotenv: "export an existing variable"): ignored.
		p.restOfLine()
		return nil
	default:
		return p.errf(start, "expected = after %s", key)
	}
	p.skipBlanks()
	var value string
	switch q := p.peek(); q {
	case '\'', '"':
		raw, err := p.quoted(q, start)
		if err != nil {
			return err
		}
		// Only blanks or a comment may follow a quoted value.
		tail := strings.TrimSpace(p.restOfLine())
		if tail != "" && !strings.HasPrefix(tail, "#") {
			return p.errf(start, "unexpected text after the quoted value of %s", key)
		}
		if q == '\'' {
			value = raw
			break
		}
		v, err := p.expand(ctx, raw, true, start)
		if err != nil {
			return err
		}
		value = v
	default:
		raw := p.unquoted()
		v, err := p.expand(ctx, strings.TrimSpace(raw), false, start)
		if err != nil {
			return err
		}
		value = v
	}
	p.vals[key] = value
	return nil
}

// quoted reads a quoted value (which may span lines), without the quotes,
// leaving escapes in place.
func (p *parser) quoted(q byte, start int) (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == q:
			if q == '"' {
				b.WriteByte('\\')
			}
			b.WriteByte(q)
			p.pos += 2
			continue
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\n':
			p.line++
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", p.errf(start, "unterminated %c-quoted value", q)
}

// unquoted reads an unquoted value up to a comment or the end of the line.
// A # inside $( ... ) does not start a comment.
func (p *parser) unquoted() string {
	var b strings.Builder
	depth := 0
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\n' {
			p.pos++
			p.line++
			break
		}
		if c == '#' && depth == 0 {
			p.restOfLine()
			break
		}
		switch {
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] != '\n':
			b.WriteByte(c)
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
			continue
		case c == '$' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '(':
			depth++
			b.WriteString("$(")
			p.pos += 2
			continue
		case c == '(' && depth > 0:
			depth++
		case c == ')' && depth > 0:
			depth--
		}
		b.WriteByte(c)
		p.pos++
	}
	return b.String()
}

// expand applies escapes and substitutions to a double-quoted or unquoted
// value.
func (p *parser) expand(ctx context.Context, s string, double bool, line int) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch n := s[i]; {
			case double && n == 'n':
				b.WriteByte('\n')
			case double && n == 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(n)
			}
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			end, ok := matchParen(s, i+1)
			if !ok {
				return "", p.errf(line, "unterminated $( command substitution")
			}
			cmd, err := p.substituteVars(s[i+2:end], line)
			if err != nil {
				return "", err
			}
			out, err := p.run(ctx, cmd)
			if err != nil {
				e := p.errf(line, "command substitution failed: %v", err)
				e.Err = err
				return "", e
			}
			b.WriteString(out)
			i = end
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", p.errf(line, "unterminated ${ variable")
			}
			name := s[i+2 : i+2+end]
			if err := p.checkBraced(name, line); err != nil {
				return "", err
			}
			b.WriteString(p.lookup(name))
			i = i + 2 + end
		case c == '$' && i+1 < len(s) && isNameByte(s[i+1]):
			j := i + 1
			for j < len(s) && isNameByte(s[j]) {
				j++
			}
			b.WriteString(p.lookup(s[i+1 : j]))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// substituteVars expands $VAR and ${VAR} inside a command before it runs,
// as Kamal does; \$ passes a literal $ to the shell (Kamal drops the
// backslash), so `$(echo \${VAR:-default})` leaves the default to sh.
func (p *parser) substituteVars(s string, line int) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '$':
			b.WriteByte('$')
			i++
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String(), nil
			}
			name := s[i+2 : i+2+end]
			if err := p.checkBraced(name, line); err != nil {
				return "", err
			}
			b.WriteString(p.lookup(name))
			i = i + 2 + end
		case c == '$' && i+1 < len(s) && isNameByte(s[i+1]):
			j := i + 1
			for j < len(s) && isNameByte(s[j]) {
				j++
			}
			b.WriteString(p.lookup(s[i+1 : j]))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// matchParen returns the index of the ) closing the ( at open.
func matchParen(s string, open int) (int, bool) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i, true
			}
		}
	}
	return 0, false
}

func (p *parser) lookup(name string) string {
	if v, ok := p.vals[name]; ok {
		return v
	}
	if p.opts.Lookup != nil {
		if v, ok := p.opts.Lookup(name); ok {
			return v
		}
	}
	return ""
}

func (p *parser) run(ctx context.Context, cmd string) (string, error) {
	timeout := p.opts.Timeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	env := commandEnv(os.Environ(), p.opts.SetEnv)
	for k, v := range p.vals {
		env = append(env, k+"="+v)
	}
	run := p.opts.Run
	if args, ok, err := kamalSecretsArgs(cmd); ok {
		if err != nil {
			return "", err
		}
		run = func(ctx context.Context, _ string, env []string) (string, error) {
			return p.opts.inline(ctx, args, env)
		}
	}
	if run == nil {
		dir := p.opts.Dir
		run = func(ctx context.Context, command string, env []string) (string, error) {
			return Shell(ctx, dir, command, env)
		}
	}
	out, err := run(ctx, cmd, env)
	if err != nil {
		return "", err
	}
	out = strings.TrimSuffix(out, "\n")
	out = strings.TrimSuffix(out, "\r")
	return out, nil
}

// commandEnv is environ with set applied: each name replaced, or removed
// when its value is empty.
func commandEnv(environ []string, set map[string]string) []string {
	if len(set) == 0 {
		return environ
	}
	out := make([]string, 0, len(environ)+len(set))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := set[name]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

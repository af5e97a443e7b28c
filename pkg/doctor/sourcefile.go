package doctor

import (
	"regexp"
	"strings"
)

// SourceFile is a text file of the app, kept as lines for line-accurate
// findings.
type SourceFile struct {
	// Path is relative to the app root.
	Path  string
	Lines []string
}

func newSourceFile(path string, data []byte) *SourceFile {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	return &SourceFile{Path: path, Lines: strings.Split(s, "\n")}
}

// Text returns the whole file.
func (f *SourceFile) Text() string { return strings.Join(f.Lines, "\n") }

// codeLine strips a `#` comment (shell and Ruby) from a line; a `#` inside
// quotes or `#{` interpolation is kept.
func codeLine(l string) string {
	var quote byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i+1 >= len(l) || l[i+1] != '{'):
			// `$#` and `${#x}` are shell, not comments.
			if i > 0 && (l[i-1] == '$' || l[i-1] == '{') {
				continue
			}
			return l[:i]
		}
	}
	return l
}

// Match is a line that matched, 1-based.
type Match struct {
	Line int
	Text string
}

// Find returns the code lines (comments stripped) matching re.
func (f *SourceFile) Find(re *regexp.Regexp) []Match {
	if f == nil {
		return nil
	}
	var out []Match
	for i, l := range f.Lines {
		c := codeLine(l)
		if re.MatchString(c) {
			out = append(out, Match{Line: i + 1, Text: c})
		}
	}
	return out
}

// First returns the first code line matching re.
func (f *SourceFile) First(re *regexp.Regexp) (Match, bool) {
	m := f.Find(re)
	if len(m) == 0 {
		return Match{}, false
	}
	return m[0], true
}

// Statement returns the code from line (1-based) on until its brackets and
// braces balance, joined by newlines: a Ruby statement spread over lines.
func (f *SourceFile) Statement(line int) string {
	var b strings.Builder
	depth := 0
	for i := line - 1; i < len(f.Lines) && i < line-1+maxStatementLines; i++ {
		c := codeLine(f.Lines[i])
		b.WriteString(c)
		b.WriteByte('\n')
		depth += strings.Count(c, "{") + strings.Count(c, "(") + strings.Count(c, "[")
		depth -= strings.Count(c, "}") + strings.Count(c, ")") + strings.Count(c, "]")
		if depth <= 0 {
			break
		}
	}
	return b.String()
}

// maxStatementLines bounds Statement on unbalanced input.
const maxStatementLines = 50

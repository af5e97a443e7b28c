package secretadapters

// Shell words as Ruby's Shellwords reads and writes them: Kamal escapes
// fetch's JSON with Shellwords.escape and splits the substituted command
// with Shellwords.split, and a secrets file depends on the two agreeing.

import (
	"errors"
	"strings"
)

// ErrUnmatchedQuote is a command line with an open quote.
var ErrUnmatchedQuote = errors.New("unmatched quote")

// ShellEscape makes s one word for a POSIX shell: every byte outside
// A-Za-z0-9_-.,:+/@ is backslash-escaped, a newline is quoted as '\n'
// (a backslash-newline would be a line continuation), and "" is ”.
func ShellEscape(s string) string {
	if s == "" {
		return "''"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			b.WriteString("'\n'")
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.IndexByte("_-.,:+/@", c) >= 0, c >= 0x80:
			b.WriteByte(c)
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ShellSplit splits a command line into words: blanks separate words,
// 'single' quotes are literal, "double" quotes drop the backslash before
// $ ` " \ and newline, and a bare backslash escapes the next byte.
func ShellSplit(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, ErrUnmatchedQuote
			}
			w.WriteString(line[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			j, err := doubleQuoted(line, i+1, &w)
			if err != nil {
				return nil, err
			}
			i = j
			inWord = true
		case c == '\\':
			if i+1 < len(line) {
				i++
				w.WriteByte(line[i])
			}
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// doubleQuoted copies a "..." body starting at i into w and returns the
// index of the closing quote.
func doubleQuoted(line string, i int, w *strings.Builder) (int, error) {
	for ; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			return i, nil
		case c == '\\' && i+1 < len(line) && strings.IndexByte("$`\"\\\n", line[i+1]) >= 0:
			i++
			w.WriteByte(line[i])
		default:
			w.WriteByte(c)
		}
	}
	return 0, ErrUnmatchedQuote
}

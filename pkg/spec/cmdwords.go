package spec

import "strings"

// cmdArgs turns a Kamal `cmd:` string into the container's argv. Kamal puts
// the string on the docker run command line, where the host's shell splits it
// into words; doing the same keeps the app as PID 1 so it gets SIGTERM and
// can drain. Only a command that needs a shell (pipes, redirects, variables,
// lists) runs under `sh -c`.
func cmdArgs(cmd string) []string {
	if strings.ContainsAny(cmd, "|&;<>()$`*?[]{}~\n") {
		return []string{"sh", "-c", cmd}
	}
	words, ok := splitWords(cmd)
	if !ok {
		return []string{"sh", "-c", cmd}
	}
	return words
}

// splitWords splits like a POSIX shell for the quoting forms a command line
// uses ('single', "double", \escape); ok is false for unbalanced quotes.
func splitWords(s string) (words []string, ok bool) {
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, false
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(s) {
				return nil, false
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, true
}

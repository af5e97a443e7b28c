package doctor

import (
	"regexp"
	"strings"
)

// Dockerfile is the parsed shape of a Dockerfile: enough to reason about
// stages, users, environment and what gets installed, not a full builder.
type Dockerfile struct {
	// Path is relative to the app root.
	Path string
	// Args are the ARG instructions before the first FROM.
	Args []Instruction
	// Stages in order; the last one is the image that ships.
	Stages []*Stage
}

// Stage is one FROM and the instructions under it.
type Stage struct {
	// Base is the FROM image (or an earlier stage's name).
	Base string
	// Name is the `AS name`, if any.
	Name         string
	Line         int
	Instructions []Instruction
}

// Instruction is one logical instruction (continuations joined).
type Instruction struct {
	// Cmd is upper case: RUN, ENV, USER, ...
	Cmd string
	// Args is the rest of the instruction, continuation lines joined by spaces
	// and heredoc bodies by newlines.
	Args string
	// Line is where the instruction starts.
	Line int
}

// Final returns the stage that ships, or nil for an empty Dockerfile.
func (d *Dockerfile) Final() *Stage {
	if d == nil || len(d.Stages) == 0 {
		return nil
	}
	return d.Stages[len(d.Stages)-1]
}

// Users returns the stage's USER instructions.
func (s *Stage) Users() []Instruction { return s.all("USER") }

func (s *Stage) all(cmd string) []Instruction {
	var out []Instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// EnvVar is one variable set by ENV.
type EnvVar struct {
	Name, Value string
	Line        int
}

// Env returns the variables the stage's ENV instructions set, in order.
func (s *Stage) Env() []EnvVar {
	var out []EnvVar
	for _, in := range s.all("ENV") {
		for _, kv := range parseEnvArgs(in.Args) {
			out = append(out, EnvVar{Name: kv[0], Value: kv[1], Line: in.Line})
		}
	}
	return out
}

// Arg returns the default of ARG name declared globally or in any stage, and
// its line; ok is false when it is not declared with a default.
func (d *Dockerfile) Arg(name string) (value string, line int, ok bool) {
	ins := append([]Instruction{}, d.Args...)
	for _, s := range d.Stages {
		ins = append(ins, s.all("ARG")...)
	}
	for _, in := range ins {
		if in.Cmd != "ARG" {
			continue
		}
		k, v, found := strings.Cut(strings.TrimSpace(in.Args), "=")
		if found && strings.TrimSpace(k) == name {
			return strings.Trim(strings.TrimSpace(v), `"'`), in.Line, true
		}
	}
	return "", 0, false
}

// parseEnvArgs splits `K=V K2="v 2"` (or the legacy `K V`) into pairs.
func parseEnvArgs(s string) [][2]string {
	s = strings.TrimSpace(s)
	words := shellWords(s)
	if len(words) == 0 {
		return nil
	}
	if !strings.Contains(words[0], "=") {
		// Legacy form: ENV KEY the rest of the line.
		k, v, _ := strings.Cut(s, " ")
		return [][2]string{{k, strings.Trim(strings.TrimSpace(v), `"'`)}}
	}
	var out [][2]string
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		out = append(out, [2]string{k, v})
	}
	return out
}

// shellWords splits s on blanks, honouring single and double quotes and
// backslash escapes, and removes the quotes.
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	esc := false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
		case r == '\\' && quote != '\'':
			esc = true
			inWord = true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote = r
			inWord = true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

var (
	escapeDirective = regexp.MustCompile(`(?i)^#\s*escape\s*=\s*(\S)\s*$`)
	directiveLine   = regexp.MustCompile(`^#\s*[a-zA-Z]+\s*=`)
	heredocStart    = regexp.MustCompile(`<<-?\s*["']?([A-Za-z_][A-Za-z0-9_]*)["']?`)
	fromArgs        = regexp.MustCompile(`(?i)^(?:--\S+\s+)*(\S+)(?:\s+as\s+(\S+))?`)
)

// ParseDockerfile parses src; it never fails (unknown text is kept as
// instructions with whatever command word it starts with).
func ParseDockerfile(path string, src []byte) *Dockerfile {
	d := &Dockerfile{Path: path}
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	escape := byte('\\')
	i := 0
	// Parser directives come first, before any blank line or instruction.
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if m := escapeDirective.FindStringSubmatch(l); m != nil {
			escape = m[1][0]
			continue
		}
		if !directiveLine.MatchString(l) {
			break
		}
	}
	var cur *Stage
	for i < len(lines) {
		start := i
		l := strings.TrimSpace(lines[i])
		i++
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		var parts []string
		for {
			t := strings.TrimRight(l, " \t")
			if len(t) == 0 || t[len(t)-1] != escape {
				parts = append(parts, t)
				break
			}
			parts = append(parts, strings.TrimSpace(t[:len(t)-1]))
			// Continuation: skip comment and blank lines inside.
			for i < len(lines) {
				n := strings.TrimSpace(lines[i])
				if n == "" || strings.HasPrefix(n, "#") {
					i++
					continue
				}
				break
			}
			if i >= len(lines) {
				break
			}
			l = strings.TrimSpace(lines[i])
			i++
		}
		text := strings.Join(parts, " ")
		cmd, args, _ := strings.Cut(text, " ")
		in := Instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start + 1}
		// Heredocs (RUN <<EOF ... EOF): bodies are part of the instruction.
		for _, m := range heredocStart.FindAllStringSubmatch(in.Args, -1) {
			for i < len(lines) {
				body := lines[i]
				i++
				if strings.TrimSpace(body) == m[1] {
					break
				}
				in.Args += "\n" + body
			}
		}
		switch in.Cmd {
		case "FROM":
			cur = &Stage{Line: in.Line}
			if m := fromArgs.FindStringSubmatch(in.Args); m != nil {
				cur.Base, cur.Name = m[1], m[2]
			}
			d.Stages = append(d.Stages, cur)
		default:
			if cur == nil {
				d.Args = append(d.Args, in)
			} else {
				cur.Instructions = append(cur.Instructions, in)
			}
		}
	}
	return d
}

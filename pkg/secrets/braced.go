package secrets

// ${...} holding more than a name. Kamal's dotenv knows only $NAME and
// ${NAME}: its pattern stops at the name, so ${NAME:-default} gives NAME's
// value followed by the literal ":-default}". Rather than copy that (a
// silently wrong secret), such a substitution is an error that says how to
// get a default the way Kamal can: from the shell, in a command.

import "errors"

// ErrUnsupportedSubstitution is a ${...} that is not ${NAME}: shell
// parameter expansion (${A:-b}, ${A-b}, ${A:=b}, ${A:?}, ${#A}...), which
// Kamal's dotenv does not perform.
var ErrUnsupportedSubstitution = errors.New("unsupported substitution")

// checkBraced refuses the inside of a ${...} that is not a plain name.
func (p *parser) checkBraced(inner string, line int) error {
	if validVarName(inner) {
		return nil
	}
	name := inner
	for i := 0; i < len(inner); i++ {
		if !isNameByte(inner[i]) {
			name = inner[:i]
			break
		}
	}
	if name == "" {
		name = "NAME"
	}
	// The text after the name is not quoted: a default may be a secret.
	e := p.errf(line, "${%s...}: %v: Kamal's dotenv substitutes only $NAME and ${NAME} (it would give the value of %s followed by the rest of the braces as text); for a default, let the shell expand it in a command: $(echo \\${%s:-default})",
		name, ErrUnsupportedSubstitution, name, name)
	e.Err = ErrUnsupportedSubstitution
	return e
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

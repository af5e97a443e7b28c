package cmdline

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrAliasNotCommand is an alias whose expansion does not start with a
// command of the tree.
var ErrAliasNotCommand = errors.New("does not start with a docker kamal command")

// QuoteError is a command line with a quote that is never closed.
type QuoteError struct {
	Quote string // "single" or "double"
}

func (e *QuoteError) Error() string { return "unterminated " + e.Quote + " quote" }

// expandAlias replaces the command name in args (global flags already
// hoisted in front) by its alias expansion. Unknown names are left for the
// parser to reject.
func expandAlias(ctx context.Context, tree []*Command, resolve AliasResolver, args []string) ([]string, error) {
	if resolve == nil {
		return args, nil
	}
	idx, configFile, destination := commandIndex(args)
	if idx < 0 || knownCommand(tree, args[idx]) {
		return args, nil
	}
	aliases, err := resolve(ctx, configFile, destination)
	if err != nil || aliases == nil {
		// Without a readable config the name is simply unknown.
		return args, nil //nolint:nilerr // the parser reports the unknown command
	}
	exp, ok := aliases[args[idx]]
	if !ok {
		return args, nil
	}
	words, err := splitWords(exp)
	if err != nil {
		return nil, fmt.Errorf("alias %s: %w", args[idx], err)
	}
	if len(words) == 0 || !knownCommand(tree, words[0]) {
		return nil, fmt.Errorf("alias %s: %q %w", args[idx], exp, ErrAliasNotCommand)
	}
	out := append(append([]string{}, args[:idx]...), words...)
	// The expansion may hold global flags after its command: hoist again.
	return hoistGlobalFlags(append(out, args[idx+1:]...)), nil
}

// knownCommand reports a top-level command name (help and the plugin's
// own name included).
func knownCommand(tree []*Command, name string) bool {
	if name == helpName || name == PluginName {
		return true
	}
	return find(tree, name) != nil
}

func find(cmds []*Command, name string) *Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// splitWords splits a command line as a POSIX shell would (single and
// double quotes, backslash escapes), without any expansion.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, &QuoteError{Quote: "single"}
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, &QuoteError{Quote: "double"}
			}
			inWord = true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

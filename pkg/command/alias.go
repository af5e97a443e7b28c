package command

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// AliasResolver returns the `aliases:` of the config named by configFile
// and destination (the global -c and -d values, "" when not given).
type AliasResolver func(ctx context.Context, configFile, destination string) (map[string]string, error)

var aliasResolver AliasResolver

// RegisterAliasResolver lets a command name that is not in the tree be
// looked up in the config's aliases and replaced by its expansion, so
// `docker kamal console` runs `app exec -i ...` when the config says so.
func RegisterAliasResolver(r AliasResolver) { aliasResolver = r }

// expandAlias replaces the command name in args (global flags already
// hoisted in front) by its alias expansion. Unknown names are left for the
// parser to reject.
func expandAlias(ctx context.Context, args []string) ([]string, error) {
	if aliasResolver == nil {
		return args, nil
	}
	idx, configFile, destination := commandIndex(args)
	if idx < 0 || knownCommand(args[idx]) {
		return args, nil
	}
	aliases, err := aliasResolver(ctx, configFile, destination)
	if err != nil || aliases == nil {
		// Without a readable config the name is simply unknown.
		return args, nil //nolint:nilerr // the parser reports the unknown command
	}
	exp, ok := aliases[args[idx]]
	if !ok {
		return args, nil
	}
	words, err := SplitWords(exp)
	if err != nil {
		return nil, fmt.Errorf("alias %s: %w", args[idx], err)
	}
	if len(words) == 0 || !knownCommand(words[0]) {
		return nil, fmt.Errorf("alias %s: %q does not start with a docker kamal command", args[idx], exp)
	}
	out := append(append([]string{}, args[:idx]...), words...)
	// The expansion may hold global flags after its command: hoist again.
	return hoistGlobalFlags(append(out, args[idx+1:]...)), nil
}

// commandIndex finds the first argument that is not a global flag (or its
// value) and the -c/-d values seen before it.
func commandIndex(args []string) (idx int, configFile, destination string) {
	valued := map[string]string{}
	for _, f := range globalFlags() {
		for _, n := range f.Names() {
			name := "--" + n
			if len(n) == 1 {
				name = "-" + n
			}
			if _, isBool := f.(interface{ IsBoolFlag() bool }); !isBool {
				valued[name] = f.Names()[0]
			}
		}
	}
	seen := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return -1, "", ""
		}
		if !strings.HasPrefix(a, "-") {
			return i, seen["config-file"], seen["destination"]
		}
		name, val, hasVal := strings.Cut(a, "=")
		if long, ok := valued[name]; ok {
			if !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			seen[long] = val
		}
	}
	return -1, "", ""
}

func knownCommand(name string) bool {
	switch name {
	case "help", "version", PluginName:
		return true
	}
	for _, n := range tree {
		if n.name == name {
			return true
		}
	}
	return false
}

// SplitWords splits a command line as a POSIX shell would (single and
// double quotes, backslash escapes), without any expansion.
func SplitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
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
				return nil, errors.New("unterminated double quote")
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

package command

import "strings"

// freeTextCommands take a command line as arguments: flags after it belong
// to that command line, not to us.
var freeTextCommands = map[string]bool{"app exec": true, "accessory exec": true, "server exec": true}

// moveTrailingFlags lets a command's own flags follow its arguments, as
// Kamal allows (`accessory remove redis -y`): urfave/cli stops parsing
// flags at the first argument, so flags of the leaf command found after an
// argument are moved in front of the arguments. Unknown dash-words stay
// where they are (they may be arguments), and nothing after "--" moves.
func moveTrailingFlags(args []string) []string {
	path, start := commandPath(args)
	if path == "" || freeTextCommands[path] {
		return args
	}
	known := map[string]bool{}
	valued := map[string]bool{}
	for _, f := range commandFlags[path] {
		_, isBool := f.(interface{ IsBoolFlag() bool })
		for _, n := range f.Names() {
			name := "--" + n
			if len(n) == 1 {
				name = "-" + n
			}
			known[name] = true
			valued[name] = !isBool
		}
	}
	var flags, positional []string
	for i := start; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i:]...)
			break
		}
		name, _, hasVal := strings.Cut(a, "=")
		switch {
		case known[name] && valued[name] && !hasVal && i+1 < len(args):
			flags = append(flags, a, args[i+1])
			i++
		case known[name]:
			flags = append(flags, a)
		default:
			positional = append(positional, a)
		}
	}
	out := append([]string{}, args[:start]...)
	return append(append(out, flags...), positional...)
}

// commandPath finds the leaf command named in args (global flags hoisted
// in front) and the index of its first argument.
func commandPath(args []string) (string, int) {
	idx, _, _ := commandIndex(args)
	if idx < 0 {
		return "", 0
	}
	nodes := tree
	var path []string
	i := idx
	for i < len(args) {
		var found *node
		for k := range nodes {
			if nodes[k].name == args[i] {
				found = &nodes[k]
				break
			}
		}
		if found == nil {
			break
		}
		path = append(path, found.name)
		nodes = found.subs
		i++
	}
	return strings.Join(path, " "), i
}

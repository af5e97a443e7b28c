package cmdline

import "strings"

// moveTrailingFlags lets a command's own flags follow its arguments, as
// Kamal allows (`accessory remove redis -y`): urfave/cli stops parsing
// flags at the first argument, so flags of the leaf command found after an
// argument are moved in front of the arguments. Unknown dash-words stay
// where they are (they may be arguments), and nothing after "--" moves.
func moveTrailingFlags(tree []*Command, args []string) []string {
	cmd, start := commandAt(tree, args)
	if cmd == nil || cmd.FreeText {
		return args
	}
	words := flagWords(cmd.Flags)
	var flags, positional []string
	for i := start; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i:]...)
			break
		}
		name, _, hasVal := strings.Cut(a, "=")
		f, known := words[name]
		switch {
		case known && takesValue(f) && !hasVal && i+1 < len(args):
			flags = append(flags, a, args[i+1])
			i++
		case known:
			flags = append(flags, a)
		default:
			positional = append(positional, a)
		}
	}
	out := append([]string{}, args[:start]...)
	return append(append(out, flags...), positional...)
}

// commandAt finds the deepest command named in args (global flags hoisted
// in front) and the index of its first argument.
func commandAt(tree []*Command, args []string) (*Command, int) {
	idx, _, _ := commandIndex(args)
	if idx < 0 {
		return nil, 0
	}
	var cmd *Command
	cmds := tree
	i := idx
	for ; i < len(args); i++ {
		next := find(cmds, args[i])
		if next == nil {
			break
		}
		cmd, cmds = next, next.Subcommands
	}
	return cmd, i
}

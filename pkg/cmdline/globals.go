package cmdline

import (
	"flag"
	"strings"

	"github.com/urfave/cli/v2"
)

// globalFlags are accepted before or after the command name, as in Kamal.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config-file", Aliases: []string{"c"}, Value: "config/deploy.yml", Usage: "path to the config file"},
		&cli.StringFlag{Name: "destination", Aliases: []string{"d"}, Usage: "destination, merges config/deploy.<DESTINATION>.yml"},
		&hostsFlag{cli.StringFlag{Name: "hosts", Aliases: []string{"h"}, Usage: "run on these hosts only (comma-separated, wildcards with *)"}},
		&cli.StringFlag{Name: "roles", Aliases: []string{"r"}, Usage: "run on hosts of these roles only (comma-separated, wildcards with *)"},
		&cli.BoolFlag{Name: "primary", Aliases: []string{"p"}, Usage: "run on the primary host only"},
		&cli.StringFlag{Name: "version", Usage: "run against this app version"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show the underlying operations"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "show errors only"},
		&cli.BoolFlag{Name: "skip-hooks", Aliases: []string{"H"}, Usage: "do not run hooks"},
	}
}

// hostsFlag is --hosts, shown as "--hosts value, -h value" but parsed as
// --hosts only: urfave's help check asks every flag set for a bool named
// -h (its help flag's short name), and would take `-h true` for help.
// hoistGlobalFlags spells -h as --hosts before urfave parses.
type hostsFlag struct{ cli.StringFlag }

func (f *hostsFlag) Apply(set *flag.FlagSet) error {
	set.String(f.Name, f.Value, f.Usage)
	return nil
}

// flagWords maps each spelling of flags ("--lines", "-n") to its flag.
func flagWords(flags []cli.Flag) map[string]cli.Flag {
	words := map[string]cli.Flag{}
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) == 1 {
				words["-"+n] = f
			} else {
				words["--"+n] = f
			}
		}
	}
	return words
}

// takesValue reports a flag that is followed by a value (not a switch).
func takesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return !ok || d.TakesValue()
}

// normalizeHelp maps `help CMD...` to `CMD... --help`, which is also how
// `docker help kamal` reaches us.
func normalizeHelp(args []string) []string {
	if len(args) > 0 && args[0] == helpName {
		rest := args[1:]
		// The Docker CLI runs `docker help kamal` as `docker-kamal help kamal`.
		if len(rest) > 0 && rest[0] == PluginName {
			rest = rest[1:]
		}
		return append(append([]string{}, rest...), "--help")
	}
	return args
}

// hoistGlobalFlags moves Kamal's global options that follow the command name
// in front of it, so `deploy -d staging` works as in Kamal. It stops at "--".
func hoistGlobalFlags(args []string) []string {
	words := flagWords(globalFlags())
	var globals, others []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			others = append(others, args[i:]...)
			break
		}
		name := a
		if j := strings.Index(a, "="); j > 0 && strings.HasPrefix(a, "-") {
			name = a[:j]
		}
		f, global := words[name]
		switch {
		case !global:
			others = append(others, a)
		case !takesValue(f), name != a:
			globals = append(globals, longName(f, name)+a[len(name):])
		case i+1 < len(args):
			globals = append(globals, longName(f, name), args[i+1])
			i++
		default:
			others = append(others, a)
		}
	}
	return append(globals, others...)
}

// longName is --hosts for -h (see hostsFlag), and name for any other
// spelling of a flag.
func longName(f cli.Flag, name string) string {
	if _, ok := f.(*hostsFlag); ok {
		return "--" + f.Names()[0]
	}
	return name
}

// commandIndex finds the first argument that is not a global flag (or its
// value) and the -c/-d values seen before it.
func commandIndex(args []string) (idx int, configFile, destination string) {
	words := flagWords(globalFlags())
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
		if f, ok := words[name]; ok && takesValue(f) {
			if !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			seen[f.Names()[0]] = val
		}
	}
	return -1, "", ""
}

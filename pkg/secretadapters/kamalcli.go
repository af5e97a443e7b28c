package secretadapters

// Kamal's command-line shape of `secrets fetch` and `secrets extract`:
// the JSON fetch prints, what extract finds in it, and the in-process run
// of `kamal secrets ...` inside a secrets file, where Kamal passes
// --inline and fetch's JSON comes back shell-escaped so that a later
// `$(kamal secrets extract NAME $SECRETS)` gets it back whole.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// FetchJSON fetches with the adapter called name and returns the JSON
// object Kamal prints: {"KEY":"value",...}, no spaces, no HTML escaping.
func FetchJSON(ctx context.Context, name string, r Request) (string, error) {
	vals, err := Fetch(ctx, name, r)
	if err != nil {
		return "", fmt.Errorf("secrets fetch --adapter %s: %w", name, err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(vals); err != nil {
		return "", fmt.Errorf("secrets fetch: encode: %w", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Extract finds name in fetch's JSON: the key itself, else the first key
// (sorted) ending in /name. The error never holds a value.
func Extract(name, data string) (string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return "", fmt.Errorf("secrets extract %s: %w: the secrets are not the JSON secrets fetch prints", name, ErrUsage)
	}
	if v, ok := m[name]; ok {
		return v, nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.HasSuffix(k, "/"+name) {
			return m[k], nil
		}
	}
	return "", fmt.Errorf("secrets extract: %s %w (have %d secrets)", name, ErrNotFound, len(m))
}

// Inline runs `kamal secrets ARGS...` (args start after "secrets") as a
// $(...) of a secrets file: fetch returns its JSON shell-escaped, extract
// the bare value. env is the vendor CLIs' environment.
func Inline(ctx context.Context, args []string, env []string) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("kamal secrets: %w: fetch or extract", ErrUsage)
	}
	opts, rest, err := parseFlags(args[1:])
	if err != nil {
		return "", fmt.Errorf("kamal secrets %s: %w", args[0], err)
	}
	switch args[0] {
	case "fetch":
		if opts["adapter"] == "" {
			return "", fmt.Errorf("kamal secrets fetch: %w: --adapter is required", ErrUsage)
		}
		js, err := FetchJSON(ctx, opts["adapter"], Request{Account: opts["account"], From: opts["from"], Items: rest, Env: env})
		if err != nil {
			return "", err
		}
		return ShellEscape(js), nil
	case "extract":
		if len(rest) != 2 {
			return "", fmt.Errorf("kamal secrets extract: %w: NAME SECRETS", ErrUsage)
		}
		return Extract(rest[0], rest[1])
	}
	return "", fmt.Errorf("kamal secrets %s: %w: only fetch and extract run inside a secrets file", args[0], ErrUsage)
}

// parseFlags splits Kamal's (Thor's) options from the arguments: --name
// VALUE, --name=VALUE, -a VALUE, --inline; options may come anywhere.
func parseFlags(args []string) (map[string]string, []string, error) {
	valued := map[string]string{"--adapter": "adapter", "-a": "adapter", "--account": "account", "--from": "from"}
	opts := map[string]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--inline" || a == "--no-inline" {
			continue
		}
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		key, ok := valued[name]
		switch {
		case ok && hasVal:
			opts[key] = val
		case ok && i+1 < len(args):
			opts[key] = args[i+1]
			i++
		case ok:
			return nil, nil, fmt.Errorf("%w: %s needs a value", ErrUsage, name)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			return nil, nil, fmt.Errorf("%w: unknown option %s", ErrUsage, name)
		default:
			rest = append(rest, a)
		}
	}
	return opts, rest, nil
}

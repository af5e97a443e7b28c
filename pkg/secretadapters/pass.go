package secretadapters

// The password store (`pass show FROM/NAME`, first line) and the command
// adapter (--from is a command line run with `sh -c`, {} replaced by the
// quoted name, else the name appended): ours, not Kamal's, kept from
// before the vendor adapters.

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

type passStore struct{}

func (passStore) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	p := tool{bin: "pass", label: "pass", env: r.Env}
	out := map[string]string{}
	for _, name := range prefixed(strings.TrimSuffix(r.From, "/"), r.Items) {
		b, err := p.output(ctx, "show", name)
		if err != nil {
			return nil, fmt.Errorf("could not read %s from pass: %w", name, notFound(err, "is not in the password store"))
		}
		first, _, _ := strings.Cut(string(b), "\n")
		out[name] = first
	}
	return out, nil
}

type commandAdapter struct{}

// commandLine is the shell line the command adapter runs for name.
func commandLine(from, name string) (string, error) {
	if strings.TrimSpace(from) == "" {
		return "", fmt.Errorf("secrets fetch --adapter command: %w: needs --from 'COMMAND' ({} is replaced by the secret name)", ErrUsage)
	}
	if strings.Contains(from, "{}") {
		return strings.ReplaceAll(from, "{}", quoteSingle(name)), nil
	}
	return from + " " + quoteSingle(name), nil
}

func (commandAdapter) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	sh := tool{bin: "sh", label: "command", env: r.Env}
	out := map[string]string{}
	for _, name := range r.Items {
		line, err := commandLine(r.From, name)
		if err != nil {
			return nil, err
		}
		b, err := sh.output(ctx, "-c", line)
		if err != nil {
			var ce *CLIError
			if errors.As(err, &ce) {
				ce.Step = "(--from command)"
			}
			return nil, fmt.Errorf("fetch %s with the command adapter: %w", name, err)
		}
		out[name] = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	return out, nil
}

// quoteSingle quotes s for sh in single quotes.
func quoteSingle(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

package secretadapters

// Doppler through `doppler`: `doppler me --json` checks the login (else
// `doppler login -y`); `doppler secrets get NAME... --json -p PROJECT -c
// CONFIG` reads them, project and config from --from PROJECT/CONFIG or the
// items' PROJECT/CONFIG/NAME, unless DOPPLER_TOKEN is a service token
// (dp.st...), which fixes both. Keys are the secret names.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type doppler struct{}

func (doppler) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	dp := tool{bin: "doppler", label: "Doppler", env: r.Env}
	if err := dp.installed(ctx); err != nil {
		return nil, err
	}
	if !dp.succeeds(ctx, "me", "--json") {
		if _, err := dp.login(ctx, "login", "-y"); err != nil {
			return nil, fmt.Errorf("doppler: %w: %w", ErrNotLoggedIn, err)
		}
	}
	items := prefixed(r.From, r.Items)
	if len(items) == 0 {
		return nil, fmt.Errorf("doppler: %w: name the secrets to fetch", ErrUsage)
	}
	args := []string{"secrets", "get"}
	for _, it := range items {
		args = append(args, it[strings.LastIndex(it, "/")+1:])
	}
	args = append(args, "--json")
	if !strings.HasPrefix(envValue(r.Env, "DOPPLER_TOKEN"), "dp.st") {
		parts := strings.Split(items[0], "/")
		if len(parts) < 3 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("doppler: %w: missing project or config from the --from=project/config option", ErrUsage)
		}
		args = append(args, "-p", parts[0], "-c", parts[1])
	}
	b, err := dp.output(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("could not read %s from Doppler: %w", strings.Join(items, ", "), notFound(err, "Could not find requested secret"))
	}
	var resp map[string]struct {
		Computed string `json:"computed"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("read Doppler: doppler printed no secrets JSON: %w", err)
	}
	out := map[string]string{}
	for k, v := range resp {
		out[k] = v.Computed
	}
	return out, nil
}

// envValue reads a variable from env, or ours when env is nil.
func envValue(env []string, name string) string {
	if env == nil {
		return os.Getenv(name)
	}
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val // the last one wins, as in exec
		}
	}
	return v
}

package secretadapters

// LastPass through `lpass`: `lpass status --color never` must say
// "Logged in as ACCOUNT." (else `lpass login ACCOUNT`); `lpass show ITEM...
// --json` reads the items. Keys are the items' full names (FOLDER/NAME).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

type lastPass struct{}

func (lastPass) requiresAccount() bool { return true }

func (lastPass) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	lp := tool{bin: "lpass", label: "LastPass", env: r.Env}
	if err := lp.installed(ctx); err != nil {
		return nil, err
	}
	st, err := lp.output(ctx, "status", "--color", "never")
	if err != nil || strings.TrimSpace(string(st)) != "Logged in as "+r.Account+"." {
		if _, err := lp.login(ctx, "login", r.Account); err != nil {
			return nil, fmt.Errorf("lastPass account %s: %w: %w", r.Account, ErrNotLoggedIn, err)
		}
	}
	items := prefixed(r.From, r.Items)
	if len(items) == 0 {
		return nil, fmt.Errorf("lastPass: %w: name the items to fetch", ErrUsage)
	}
	b, err := lp.output(ctx, append(append([]string{"show"}, items...), "--json")...)
	if err != nil {
		return nil, fmt.Errorf("could not read %s from LastPass: %w", strings.Join(items, ", "), notFound(err, "Could not find specified account"))
	}
	var list []struct {
		Fullname string `json:"fullname"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("read LastPass: lpass printed no items JSON: %w", err)
	}
	out := map[string]string{}
	for _, it := range list {
		out[it.Fullname] = it.Password
	}
	var missing []string
	for _, it := range items {
		if _, ok := out[it]; !ok {
			missing = append(missing, it)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("lastPass: %s %w", strings.Join(missing, ", "), ErrNotFound)
	}
	return out, nil
}

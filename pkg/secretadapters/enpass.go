package secretadapters

// Enpass through `enpass-cli` (offline: no account; --from is the vault
// directory): `enpass-cli -json -vault FROM show TITLE...`. TITLE gives
// every password of the item (key TITLE, or TITLE/LABEL for labelled
// ones); TITLE/LABEL gives one.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

type enpass struct{}

func (enpass) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	ep := tool{bin: "enpass-cli", label: "Enpass", env: r.Env}
	if err := ep.installed(ctx, "version"); err != nil {
		return nil, err
	}
	if r.From == "" || len(r.Items) == 0 {
		return nil, fmt.Errorf("enpass: %w: --from VAULT_DIR and the items to fetch", ErrUsage)
	}
	var titles []string
	for _, it := range r.Items {
		t := it
		if i := strings.LastIndex(it, "/"); i > 0 {
			t = it[:i]
		}
		if !slices.Contains(titles, t) {
			titles = append(titles, t)
		}
	}
	b, err := ep.output(ctx, append([]string{"-json", "-vault", r.From, "show"}, titles...)...)
	if err != nil {
		return nil, fmt.Errorf("could not read %s from Enpass: %w", strings.Join(titles, ", "), err)
	}
	var list []struct {
		Title, Label, Password string
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("read Enpass: enpass-cli printed no items JSON: %w", err)
	}
	out := map[string]string{}
	for _, e := range list {
		if e.Title == "" || e.Password == "" {
			continue
		}
		key := e.Title
		if e.Label != "" {
			key += "/" + e.Label
		}
		if !slices.Contains(r.Items, e.Title) && !slices.Contains(r.Items, key) {
			continue
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("enpass: %s is present more than once", key)
		}
		out[key] = e.Password
	}
	for _, it := range r.Items {
		if !enpassHas(out, it) {
			return nil, fmt.Errorf("enpass: %s %w", it, ErrNotFound)
		}
	}
	return out, nil
}

// enpassHas reports whether item (a title or title/label) gave a key.
func enpassHas(out map[string]string, item string) bool {
	for k := range out {
		if k == item || strings.HasPrefix(k, item+"/") {
			return true
		}
	}
	return false
}

package secretadapters

// Bitwarden through `bw`: `bw status` says unauthenticated, locked or
// unlocked; `bw login ACCOUNT` and `bw unlock --raw` (which prints the
// session, passed on as BW_SESSION) get it to unlocked; `bw sync`, then
// `bw get item ITEM` per item. ITEM alone is the login password (key
// ITEM), or every custom field of an item without one; ITEM/FIELD is a
// custom field (key ITEM/FIELD).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

type bitwarden struct{}

func (bitwarden) requiresAccount() bool { return true }

type bwItem struct {
	Login *struct {
		Password *string `json:"password"`
	} `json:"login"`
	Fields []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"fields"`
}

func (bitwarden) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	bw := tool{bin: "bw", label: "Bitwarden", env: r.Env}
	if err := bw.installed(ctx); err != nil {
		return nil, err
	}
	bw, err := bwUnlock(ctx, bw, r.Account)
	if err != nil {
		return nil, err
	}
	if _, err := bw.output(ctx, "sync"); err != nil {
		return nil, fmt.Errorf("sync Bitwarden: %w", err)
	}
	out := map[string]string{}
	order, fields := bwGroup(prefixed(r.From, r.Items))
	for _, item := range order {
		b, err := bw.output(ctx, "get", "item", item)
		if err != nil {
			return nil, fmt.Errorf("could not read %s from Bitwarden: %w", item, notFound(err, "Not found"))
		}
		var it bwItem
		if err := json.Unmarshal(b, &it); err != nil {
			return nil, fmt.Errorf("read %s from Bitwarden: bw printed no item JSON: %w", item, err)
		}
		if err := bwTake(out, item, fields[item], it); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// bwTake adds item's secrets to out: the fields asked for, else the login
// password, else every field.
func bwTake(out map[string]string, item string, want []string, it bwItem) error {
	if len(want) == 0 {
		if it.Login != nil && it.Login.Password != nil {
			out[item] = *it.Login.Password
			return nil
		}
		if len(it.Fields) == 0 {
			return fmt.Errorf("bitwarden item %s is not a login item and has no fields: %w", item, ErrNotFound)
		}
		for _, f := range it.Fields {
			want = append(want, f.Name)
		}
	}
	for _, name := range want {
		found := false
		for _, f := range it.Fields {
			if f.Name == name {
				out[item+"/"+name], found = f.Value, true
				break
			}
		}
		if !found {
			return fmt.Errorf("field %s of item %s in Bitwarden: %w", name, item, ErrNotFound)
		}
	}
	return nil
}

// bwGroup splits ITEM[/FIELD] by item, in order.
func bwGroup(refs []string) ([]string, map[string][]string) {
	var order []string
	fields := map[string][]string{}
	for _, ref := range refs {
		item, field, hasField := strings.Cut(ref, "/")
		if _, seen := fields[item]; !seen {
			order = append(order, item)
			fields[item] = nil
		}
		if hasField {
			fields[item] = append(fields[item], field)
		}
	}
	return order, fields
}

// bwUnlock logs in and unlocks as needed and returns bw with the session.
func bwUnlock(ctx context.Context, bw tool, account string) (tool, error) {
	status := func(t tool) string {
		b, err := t.output(ctx, "status")
		if err != nil {
			return ""
		}
		var s struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(b, &s) != nil {
			return ""
		}
		return s.Status
	}
	st := status(bw)
	if st == "unauthenticated" {
		if _, err := bw.login(ctx, "login", account); err != nil {
			return bw, fmt.Errorf("bitwarden account %s: %w: %w", account, ErrNotLoggedIn, err)
		}
		st = status(bw)
	}
	if st == "locked" {
		b, err := bw.login(ctx, "unlock", "--raw")
		if err != nil {
			return bw, fmt.Errorf("unlock Bitwarden: %w: %w", ErrNotLoggedIn, err)
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			bw = bw.with("BW_SESSION=" + s)
		}
		st = status(bw)
	}
	if st != "unlocked" {
		return bw, fmt.Errorf("bitwarden account %s: %w (bw status: %q)", account, ErrNotLoggedIn, st)
	}
	return bw, nil
}

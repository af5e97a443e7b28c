package secretadapters

// 1Password through `op`: `op account get` checks the sign-in, `op signin
// --raw` signs in (printing a session token, or nothing with the desktop
// app), and `op item get ITEM --vault V --format json --fields
// label=A,label=B` reads the fields. Keys are the fields' op:// references
// without the scheme or a trailing /password: "Vault/Item/FIELD".

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

type onePassword struct{}

func (onePassword) requiresAccount() bool { return true }

// opField is one field of `op item get --format json`.
type opField struct {
	Label     string `json:"label"`
	Value     string `json:"value"`
	Reference string `json:"reference"`
}

func (onePassword) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	op := tool{bin: "op", label: "1Password", env: r.Env}
	if err := op.installed(ctx); err != nil {
		return nil, err
	}
	session := ""
	if !op.succeeds(ctx, "account", "get", "--account", r.Account) {
		out, err := op.login(ctx, "signin", "--account", r.Account, "--force", "--raw")
		if err != nil {
			return nil, fmt.Errorf("1Password account %s: %w: %w", r.Account, ErrNotLoggedIn, err)
		}
		session = strings.TrimSpace(string(out))
	}
	get := func(vault, item string, extra ...string) ([]byte, error) {
		args := []string{"item", "get", item, "--vault", vault, "--format", "json", "--account", r.Account}
		if session != "" {
			args = append(args, "--session", session)
		}
		return op.output(ctx, append(args, extra...)...)
	}
	if len(r.Items) == 0 {
		return opAll(r.From, get)
	}
	out := map[string]string{}
	for _, vi := range opGroup(prefixed(r.From, r.Items)) {
		labels := make([]string, len(vi.fields))
		for i, f := range vi.fields {
			labels[i] = "label=" + f
		}
		b, err := get(vi.vault, vi.item, "--fields", strings.Join(labels, ","))
		if err != nil {
			return nil, fmt.Errorf("could not read %s from %s in the %s 1Password vault: %w", strings.Join(vi.fields, ", "), vi.item, vi.vault, notFound(err, "isn't an item", "isn't a vault", "isn't a field"))
		}
		fields, err := opFields(b)
		if err != nil {
			return nil, fmt.Errorf("read %s in the %s 1Password vault: %w", vi.item, vi.vault, err)
		}
		if err := opAllFound(vi, fields); err != nil {
			return nil, err
		}
		opMerge(out, fields)
	}
	return out, nil
}

// opAll reads every field of the item --from names (fetch without items).
func opAll(from string, get func(vault, item string, extra ...string) ([]byte, error)) (map[string]string, error) {
	vault, item, ok := strings.Cut(strings.TrimPrefix(from, "op://"), "/")
	if !ok || vault == "" || item == "" {
		return nil, fmt.Errorf("1Password: %w: name the fields, or --from VAULT/ITEM to fetch them all", ErrUsage)
	}
	b, err := get(vault, item)
	if err != nil {
		return nil, fmt.Errorf("could not read %s in the %s 1Password vault: %w", item, vault, err)
	}
	var doc struct {
		Fields []opField `json:"fields"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read %s in the %s 1Password vault: op printed no item JSON: %w", item, vault, err)
	}
	out := map[string]string{}
	opMerge(out, doc.Fields)
	return out, nil
}

// opItem is the fields asked of one item of one vault.
type opItem struct {
	vault, item string
	fields      []string
}

// opGroup splits VAULT/ITEM/FIELD[/SUB...] references by item, in order;
// a reference without a field asks for the password. Nested sections
// become op's dotted labels (section.FIELD).
func opGroup(refs []string) []*opItem {
	var out []*opItem
	idx := map[[2]string]*opItem{}
	for _, ref := range refs {
		parts := strings.Split(strings.TrimPrefix(ref, "op://"), "/")
		vault, item := parts[0], ""
		if len(parts) > 1 {
			item = parts[1]
		}
		field := "password"
		if len(parts) > 2 {
			field = strings.Join(parts[2:], ".")
		}
		k := [2]string{vault, item}
		if idx[k] == nil {
			idx[k] = &opItem{vault: vault, item: item}
			out = append(out, idx[k])
		}
		idx[k].fields = append(idx[k].fields, field)
	}
	return out
}

// opFields parses op's answer: an object for one field, a list for more.
func opFields(b []byte) ([]opField, error) {
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) > 0 && b[0] == '{' {
		var f opField
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("op printed no field JSON: %w", err)
		}
		return []opField{f}, nil
	}
	var fs []opField
	if err := json.Unmarshal(b, &fs); err != nil {
		return nil, fmt.Errorf("op printed no field JSON: %w", err)
	}
	return fs, nil
}

// opAllFound refuses an answer lacking a field that was asked for: op
// leaves out a label the item does not have.
func opAllFound(vi *opItem, fields []opField) error {
	have := map[string]bool{}
	for _, f := range fields {
		have[f.Label] = true
		// A section.FIELD label comes back as FIELD with its section.
		ref := strings.Split(strings.TrimPrefix(f.Reference, "op://"), "/")
		if len(ref) > 2 {
			have[strings.Join(ref[2:], ".")] = true
		}
	}
	for _, want := range vi.fields {
		if !have[want] {
			return fmt.Errorf("field %s of %s in the %s 1Password vault: %w", want, vi.item, vi.vault, ErrNotFound)
		}
	}
	return nil
}

func opMerge(out map[string]string, fields []opField) {
	for _, f := range fields {
		key := strings.TrimSuffix(strings.TrimPrefix(f.Reference, "op://"), "/password")
		out[key] = f.Value
	}
}

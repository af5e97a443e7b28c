package secretadapters

// HashiCorp Vault through `vault` (Kamal has no Vault adapter; this one
// follows its shape): `vault token lookup` checks the token (VAULT_ADDR,
// VAULT_TOKEN and VAULT_NAMESPACE are the CLI's own); items are
// PATH/FIELD (with --from PATH, just FIELD), read per path with `vault kv
// get -format=json PATH`, which answers KV v2 as data.data and KV v1 as
// data. Keys are PATH/FIELD. There is no interactive login: Vault's auth
// methods differ too much, so a missing token says to run `vault login`.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

type hashicorpVault struct{}

func (hashicorpVault) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	v := tool{bin: "vault", label: "Vault", env: r.Env}
	if err := v.installed(ctx, "version"); err != nil {
		return nil, err
	}
	if _, err := v.output(ctx, "token", "lookup", "-format=json"); err != nil {
		return nil, fmt.Errorf("vault: %w (run vault login, or set VAULT_TOKEN): %w", ErrNotLoggedIn, err)
	}
	items := prefixed(r.From, r.Items)
	if len(items) == 0 {
		return nil, fmt.Errorf("vault: %w: name PATH/FIELD items, or --from PATH and FIELDs", ErrUsage)
	}
	var paths []string
	fields := map[string][]string{}
	for _, it := range items {
		i := strings.LastIndex(it, "/")
		if i <= 0 || i == len(it)-1 {
			return nil, fmt.Errorf("vault: %w: item %q is not PATH/FIELD", ErrUsage, it)
		}
		p := it[:i]
		if _, seen := fields[p]; !seen {
			paths = append(paths, p)
		}
		fields[p] = append(fields[p], it[i+1:])
	}
	out := map[string]string{}
	for _, p := range paths {
		data, err := vaultRead(ctx, v, p)
		if err != nil {
			return nil, err
		}
		for _, f := range fields[p] {
			raw, ok := data[f]
			if !ok {
				return nil, fmt.Errorf("vault: field %s of %s %w", f, p, ErrNotFound)
			}
			out[p+"/"+f] = jsonString(raw)
		}
	}
	return out, nil
}

// vaultRead returns the key/value pairs at path, KV v1 or v2.
func vaultRead(ctx context.Context, v tool, path string) (map[string]json.RawMessage, error) {
	b, err := v.output(ctx, "kv", "get", "-format=json", path)
	if err != nil {
		return nil, fmt.Errorf("could not read %s from Vault: %w", path, notFound(err, "No value found at"))
	}
	var resp struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &resp); err != nil || resp.Data == nil {
		return nil, fmt.Errorf("read %s from Vault: vault printed no secret JSON: %v", path, err)
	}
	// KV v2 nests the pairs under data.data beside data.metadata.
	if inner, ok := resp.Data["data"]; ok {
		if _, meta := resp.Data["metadata"]; meta {
			var pairs map[string]json.RawMessage
			if err := json.Unmarshal(inner, &pairs); err == nil {
				return pairs, nil
			}
		}
	}
	return resp.Data, nil
}

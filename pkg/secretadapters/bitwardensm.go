package secretadapters

// Bitwarden Secrets Manager through `bws` (access token in
// BWS_ACCESS_TOKEN): `bws project list` checks the token; items are secret
// UUIDs read with `bws secret get UUID`, or `all` (`bws secret list`) or
// PROJECT/all (`bws secret list PROJECT`). Keys are the secrets' own keys.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

type bitwardenSM struct{}

type bwsSecret struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (bitwardenSM) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	bws := tool{bin: "bws", label: "Bitwarden Secrets Manager", env: r.Env}
	if err := bws.installed(ctx); err != nil {
		return nil, err
	}
	if _, err := bws.output(ctx, "project", "list"); err != nil {
		return nil, fmt.Errorf("bitwarden Secrets Manager: %w (is BWS_ACCESS_TOKEN a valid access token?): %w", ErrNotLoggedIn, err)
	}
	items := prefixed(r.From, r.Items)
	if len(items) == 0 {
		return nil, fmt.Errorf("bitwarden Secrets Manager: %w: name secret UUIDs, all, or PROJECT/all", ErrUsage)
	}
	out := map[string]string{}
	if len(items) == 1 && (items[0] == "all" || strings.HasSuffix(items[0], "/all")) {
		args := []string{"secret", "list"}
		if p := strings.TrimSuffix(items[0], "/all"); items[0] != "all" {
			args = append(args, p)
		}
		b, err := bws.output(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("could not read secrets from Bitwarden Secrets Manager: %w", err)
		}
		var list []bwsSecret
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("read Bitwarden Secrets Manager: bws printed no secret list: %w", err)
		}
		for _, s := range list {
			out[s.Key] = s.Value
		}
		return out, nil
	}
	for _, id := range items {
		b, err := bws.output(ctx, "secret", "get", id)
		if err != nil {
			return nil, fmt.Errorf("could not read %s from Bitwarden Secrets Manager: %w", id, notFound(err, "404", "not found", "Resource not found"))
		}
		var s bwsSecret
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("read %s from Bitwarden Secrets Manager: bws printed no secret: %w", id, err)
		}
		out[s.Key] = s.Value
	}
	return out, nil
}

package secretadapters

// Google Secret Manager through `gcloud`: `gcloud auth list --format=json`
// must list an account (else `gcloud auth login`); each item is
// [PROJECT/]NAME[/VERSION] ("default" project and "latest" version when
// left out), read with `gcloud secrets versions access VERSION
// --secret=NAME [--project=P] [--account=U]
// [--impersonate-service-account=SA] --format=json` and its base64 payload
// decoded. --account is USER[|SA[,SA...]]; keys are PROJECT/NAME.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

type gcpSecretManager struct{}

func (gcpSecretManager) requiresAccount() bool { return true }

func (gcpSecretManager) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	gc := tool{bin: "gcloud", label: "gcloud", env: r.Env}
	if err := gc.installed(ctx); err != nil {
		return nil, err
	}
	if !gcpLoggedIn(ctx, gc) {
		_, err := gc.login(ctx, "auth", "login")
		if err != nil || !gcpLoggedIn(ctx, gc) {
			return nil, fmt.Errorf("gcloud: %w (gcloud auth login failed): %v", ErrNotLoggedIn, err)
		}
	}
	user, impersonate, _ := strings.Cut(r.Account, "|")
	out := map[string]string{}
	for _, item := range prefixed(r.From, r.Items) {
		parts := strings.Split(item, "/")
		if len(parts) == 1 {
			parts = append([]string{"default"}, parts...)
		}
		project, name, version := parts[0], parts[1], "latest"
		if len(parts) > 2 {
			version = parts[2]
		}
		args := []string{"secrets", "versions", "access", version, "--secret=" + name}
		if project != "default" {
			args = append(args, "--project="+project)
		}
		if user != "" && user != "default" {
			args = append(args, "--account="+user)
		}
		if impersonate != "" {
			args = append(args, "--impersonate-service-account="+impersonate)
		}
		b, err := gc.output(ctx, append(args, "--format=json")...)
		if err != nil {
			return nil, fmt.Errorf("could not read %s/%s from Google Secret Manager: %w", project, name, notFound(err, "NOT_FOUND"))
		}
		v, err := gcpPayload(b)
		if err != nil {
			return nil, fmt.Errorf("read %s/%s from Google Secret Manager: %w", project, name, err)
		}
		out[project+"/"+name] = v
	}
	return out, nil
}

func gcpLoggedIn(ctx context.Context, gc tool) bool {
	b, err := gc.output(ctx, "auth", "list", "--format=json")
	if err != nil {
		return false
	}
	var accounts []json.RawMessage
	return json.Unmarshal(b, &accounts) == nil && len(accounts) > 0
}

func gcpPayload(b []byte) (string, error) {
	var v struct {
		Payload struct {
			Data string `json:"data"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("gcloud printed no secret version JSON: %w", err)
	}
	d, err := base64.StdEncoding.DecodeString(v.Payload.Data)
	if err != nil {
		return "", fmt.Errorf("decode the payload: %w", err)
	}
	return string(d), nil
}

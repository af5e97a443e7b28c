package secretadapters

// AWS Secrets Manager through `aws secretsmanager batch-get-secret-value
// --secret-id-list ID... [--profile ACCOUNT] --output json`. A secret whose
// SecretString is a JSON object gives one key per member (NAME/KEY);
// any other gives NAME. The CLI's Errors list (a missing secret) fails
// the fetch. Credentials are the CLI's own (profile, environment, SSO).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

type awsSecretsManager struct{}

func (awsSecretsManager) Fetch(ctx context.Context, r Request) (map[string]string, error) {
	aws := tool{bin: "aws", label: "AWS", env: r.Env}
	if err := aws.installed(ctx); err != nil {
		return nil, err
	}
	items := prefixed(r.From, r.Items)
	if len(items) == 0 {
		return nil, fmt.Errorf("aws Secrets Manager: %w: name the secrets to fetch", ErrUsage)
	}
	args := append([]string{"secretsmanager", "batch-get-secret-value", "--secret-id-list"}, items...)
	if r.Account != "" {
		args = append(args, "--profile", r.Account)
	}
	b, err := aws.output(ctx, append(args, "--output", "json")...)
	if err != nil {
		return nil, fmt.Errorf("could not read %s from AWS Secrets Manager: %w", strings.Join(items, ", "), awsErr(err))
	}
	var resp struct {
		SecretValues []struct {
			Name         string `json:"Name"`
			SecretString string `json:"SecretString"`
		} `json:"SecretValues"`
		Errors []struct {
			SecretID string `json:"SecretId"`
			Code     string `json:"ErrorCode"`
			Message  string `json:"Message"`
		} `json:"Errors"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("read AWS Secrets Manager: aws printed no batch-get-secret-value JSON: %w", err)
	}
	if len(resp.Errors) > 0 {
		var msgs []string
		for _, e := range resp.Errors {
			msgs = append(msgs, e.SecretID+": "+e.Message)
		}
		return nil, fmt.Errorf("aws Secrets Manager: %w: %s", ErrNotFound, strings.Join(msgs, " "))
	}
	out := map[string]string{}
	for _, s := range resp.SecretValues {
		awsTake(out, s.Name, s.SecretString)
	}
	return out, nil
}

// awsTake adds one SecretString: a JSON object member by member (values
// that are not strings as their JSON), anything else whole.
func awsTake(out map[string]string, name, str string) {
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(str), &obj) == nil {
		for k, raw := range obj {
			out[name+"/"+k] = jsonString(raw)
		}
		return
	}
	var v json.RawMessage
	if json.Unmarshal([]byte(str), &v) == nil {
		out[name] = jsonString(v)
		return
	}
	out[name] = str
}

// jsonString is a JSON string's text, or any other JSON value as written.
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// awsErr classifies a failed aws call by what the CLI documents printing.
func awsErr(err error) error {
	err = vendorSaid(err, ErrNotLoggedIn, "Unable to locate credentials", "ExpiredToken", "Token has expired", "InvalidClientTokenId")
	return notFound(err, "ResourceNotFoundException")
}

package secretadapters

// The adapter interface, the registry of names Kamal accepts, and the
// errors every adapter returns.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors of the adapters; tests and callers match them with errors.Is.
var (
	// ErrUnknownAdapter is an --adapter name no adapter has.
	ErrUnknownAdapter = errors.New("unknown secrets adapter")
	// ErrNotInstalled is a vendor CLI missing from PATH.
	ErrNotInstalled = errors.New("CLI is not installed")
	// ErrNotLoggedIn is a vendor CLI that is not logged in and whose login
	// failed.
	ErrNotLoggedIn = errors.New("not logged in")
	// ErrNotFound is an item, secret or field the vault does not hold.
	ErrNotFound = errors.New("not found")
	// ErrUsage is a fetch the adapter cannot make sense of (a missing
	// --account or --from, no items).
	ErrUsage = errors.New("usage")
)

// Request is one `secrets fetch`: the items named on the command line with
// --account and --from.
type Request struct {
	Account string
	From    string
	Items   []string
	// Env is the environment of the vendor CLI (nil: ours).
	Env []string
}

// Adapter fetches secrets from one password manager.
type Adapter interface {
	// Fetch returns the secrets, keyed as Kamal keys them for this vendor.
	Fetch(ctx context.Context, r Request) (map[string]string, error)
}

// accountRequirer is implemented by adapters that refuse a fetch without
// --account, as Kamal's do.
type accountRequirer interface{ requiresAccount() bool }

// adapters maps every name Kamal's lookup accepts (its aliases too) to a
// constructor.
var adapters = map[string]func() Adapter{
	"1password":                 func() Adapter { return onePassword{} },
	"one_password":              func() Adapter { return onePassword{} },
	"bitwarden":                 func() Adapter { return bitwarden{} },
	"bitwarden-sm":              func() Adapter { return bitwardenSM{} },
	"bitwarden_secrets_manager": func() Adapter { return bitwardenSM{} },
	"aws_secrets_manager":       func() Adapter { return awsSecretsManager{} },
	"gcp":                       func() Adapter { return gcpSecretManager{} },
	"gcp_secret_manager":        func() Adapter { return gcpSecretManager{} },
	"doppler":                   func() Adapter { return doppler{} },
	"lastpass":                  func() Adapter { return lastPass{} },
	"last_pass":                 func() Adapter { return lastPass{} },
	"passbolt":                  func() Adapter { return passbolt{} },
	"enpass":                    func() Adapter { return enpass{} },
	"vault":                     func() Adapter { return hashicorpVault{} },
	"pass":                      func() Adapter { return passStore{} },
	"command":                   func() Adapter { return commandAdapter{} },
}

// Names lists the adapter names, sorted, for help and errors.
func Names() []string {
	var out []string
	for n := range adapters {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Lookup returns the adapter called name (case-insensitive, as Kamal's).
func Lookup(name string) (Adapter, error) {
	mk, ok := adapters[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("%w %q (one of %s)", ErrUnknownAdapter, name, strings.Join(Names(), ", "))
	}
	return mk(), nil
}

// Fetch looks the adapter up and fetches r with it, refusing a missing
// --account where the adapter needs one.
func Fetch(ctx context.Context, name string, r Request) (map[string]string, error) {
	a, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if ar, ok := a.(accountRequirer); ok && ar.requiresAccount() && r.Account == "" {
		return nil, fmt.Errorf("%w: missing required option --account", ErrUsage)
	}
	return a.Fetch(ctx, r)
}

// prefixed joins --from and each item as Kamal does: FROM/ITEM.
func prefixed(from string, items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		if from == "" {
			out[i] = it
		} else {
			out[i] = from + "/" + it
		}
	}
	return out
}

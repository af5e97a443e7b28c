package spec

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// opStandIn is a stand-in for 1Password's `op` (which cannot be installed
// here): it answers the sign-in check and the one `op item get` Kamal's
// 1password adapter makes for the pattern below, as op documents it, and
// fails on anything else.
const opStandIn = `#!/bin/sh
case "$*" in
"--version") echo 2.30.0 ;;
"account get --account acme") echo "ID: ACME" ;;
"item get Item --vault Vault --format json --account acme --fields label=DB_PASSWORD,label=RAILS_MASTER_KEY")
cat <<'JSON'
[{"id": "a1", "type": "CONCEALED", "label": "DB_PASSWORD", "value": "db p\"ass'w$rd", "reference": "op://Vault/Item/DB_PASSWORD"},
 {"id": "a2", "type": "CONCEALED", "label": "RAILS_MASTER_KEY", "value": "mk-0123456789abcdef", "reference": "op://Vault/Item/RAILS_MASTER_KEY"}]
JSON
;;
*) echo "stand-in op: unexpected arguments: $*" >&2; exit 99 ;;
esac
`

// A .kamal/secrets file written for Kamal, unchanged: `kamal secrets
// fetch` through the 1password adapter, then `kamal` and `bin/kamal
// secrets extract` of $SECRETS and ${SECRETS}, with no Ruby Kamal
// installed.
func TestKamalShapedSecretsFile(t *testing.T) {
	dir := t.TempDir()
	bin := t.TempDir()
	write := func(path, body string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bin, "op"), opStandIn, 0o755)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	write(filepath.Join(dir, "config", "deploy.yml"), `service: app
image: acme/app
servers: [1.2.3.4]
registry:
  username: acme
  password: [DB_PASSWORD]
env:
  secret: [DB_PASSWORD, RAILS_MASTER_KEY]
`, 0o644)
	write(filepath.Join(dir, ".kamal", "secrets"), `# Kamal's 1Password pattern
SECRETS=$(kamal secrets fetch --adapter 1password --account acme --from Vault/Item DB_PASSWORD RAILS_MASTER_KEY)
DB_PASSWORD=$(kamal secrets extract DB_PASSWORD $SECRETS)
RAILS_MASTER_KEY=$(bin/kamal secrets extract RAILS_MASTER_KEY ${SECRETS})
`, 0o600)
	c, err := Load(context.Background(), LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"DB_PASSWORD": `db p"ass'w$rd`, "RAILS_MASTER_KEY": "mk-0123456789abcdef"} {
		if got, _ := c.Secret(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if c.Registry == nil || c.Registry.Password != `db p"ass'w$rd` {
		t.Errorf("registry password not resolved from the fetched secrets")
	}
}

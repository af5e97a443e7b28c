package doctor

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Secrets checks: nothing secret is committed, or written in the config in
// the clear. Findings name the key, never the value.

// secretName reports whether an env var name looks like it holds a secret.
func secretName(name string) bool {
	u := strings.ToUpper(name)
	if strings.Contains(u, "PUBLIC") || strings.Contains(u, "PUBLISHABLE") {
		return false
	}
	for _, w := range []string{"PASSWORD", "PASSWD", "SECRET", "TOKEN"} {
		if strings.Contains(u, w) {
			return true
		}
	}
	for _, part := range strings.FieldsFunc(u, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		if strings.HasSuffix(part, "KEY") {
			return true
		}
	}
	return false
}

// credentialURLRE matches a URL with a password in its user info.
var credentialURLRE = regexp.MustCompile(`(?i)^[a-z][a-z0-9+.-]*://[^/\s@:]*:[^/\s@]+@`)

func secretFiles(f string) (kind string, ok bool) {
	base := path.Base(f)
	switch {
	case f == "config/master.key" || strings.HasPrefix(f, "config/credentials/") && strings.HasSuffix(f, ".key"):
		return "key", true
	case base == ".env" || strings.HasPrefix(base, ".env.") && !slices.Contains([]string{".env.example", ".env.sample", ".env.template", ".env.dist"}, base):
		return "dotenv", true
	case strings.HasPrefix(f, ".kamal/secrets") || path.Dir(f) == ".kamal" && strings.HasPrefix(base, "secrets"):
		return "dotenv", true
	}
	return "", false
}

var dotenvLineRE = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$`)

// literalValue reports whether a dotenv value is a literal (no $VAR,
// ${VAR} or $(command) in it), i.e. the secret itself is in the file.
func literalValue(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || v == `""` || v == "''" {
		return false
	}
	if strings.HasPrefix(v, "'") {
		return true // single quotes: no substitution
	}
	if strings.HasPrefix(v, "#") {
		return false
	}
	return !strings.Contains(v, "$")
}

var checkSecretsTracked = Check{
	ID:    "secrets-tracked",
	Title: "no key, .env or secrets file with literal values is tracked by git",
	Run: func(p *Project) []Finding {
		var out []Finding
		for _, f := range p.Tracked {
			kind, ok := secretFiles(f)
			if !ok {
				continue
			}
			if kind == "key" {
				out = append(out, Finding{
					Severity: Error, File: f,
					Message: f + " is tracked by git: anyone with the repository can decrypt the credentials",
					Fix:     "git rm --cached " + f + ", add it to .gitignore, and rotate the key (bin/rails credentials:edit with a new key)",
				})
				continue
			}
			src := p.File(f)
			if src == nil {
				continue
			}
			for i, l := range src.Lines {
				m := dotenvLineRE.FindStringSubmatch(l)
				if m == nil || !literalValue(m[2]) {
					continue
				}
				sev := Warn
				if secretName(m[1]) {
					sev = Error
				}
				out = append(out, Finding{
					Severity: sev, File: f, Line: i + 1,
					Message: fmt.Sprintf("%s holds a literal value for %s and is tracked by git", f, m[1]),
					Fix:     fmt.Sprintf("read it at deploy time instead (%s=$%s or %s=$(op read ...)), rotate the value, and keep literal values out of git", m[1], m[1], m[1]),
				})
			}
		}
		return out
	},
}

var checkSecretsEnvClear = Check{
	ID:    "secrets-env-clear",
	Title: "no secret-looking value under env.clear",
	Run: func(p *Project) []Finding {
		c := p.Config
		if c == nil {
			return nil
		}
		type scope struct {
			key   string // where the env is written; "" for the root
			clear map[string]string
		}
		scopes := []scope{{"", c.Env.Clear}}
		for _, r := range c.Roles {
			scopes = append(scopes, scope{p.roleKey(r.Name), r.Env.Clear})
		}
		for _, a := range c.Accessories {
			scopes = append(scopes, scope{kp("accessories", a.Name), a.Env.Clear})
		}
		if c.Traefik != nil {
			scopes = append(scopes, scope{"traefik", c.Traefik.Env.Clear})
		}
		seen := map[Pos]bool{}
		var out []Finding
		for _, s := range scopes {
			for _, k := range sortedKeys(s.clear) {
				v := s.clear[k]
				why := ""
				switch {
				case v == "":
					continue
				case secretName(k):
					why = "its name says it is a secret"
				case credentialURLRE.MatchString(v):
					why = "it is a URL with a password in it"
				default:
					continue
				}
				paths := []string{kp("env", "clear", k), kp("env", k)}
				if s.key != "" {
					// Role env merges the root env in: look in the role first.
					paths = append([]string{kp(s.key, "env", "clear", k), kp(s.key, "env", k)}, paths...)
				}
				pos := p.at(paths...)
				if seen[pos] || p.erbAt(pos) {
					continue
				}
				seen[pos] = true
				out = append(out, Finding{
					Severity: Error, File: pos.File, Line: pos.Line,
					Message: fmt.Sprintf("env.clear sets %s in plain text in the config (%s)", k, why),
					Fix:     fmt.Sprintf("move %s to env.secret and put %s=$%s (or a $(command) that fetches it) in .kamal/secrets", k, k, k),
				})
			}
		}
		return out
	},
}

var checkSecretsRegistryPassword = Check{
	ID:    "secrets-registry-password",
	Title: "registry.password names a secret rather than holding one",
	Run: func(p *Project) []Finding {
		c := p.Config
		if c == nil {
			return nil
		}
		var out []Finding
		check := func(key string, pw, secret string) {
			name := strings.ReplaceAll(key, keySep, ".")
			if pw == "" || secret != "" {
				return
			}
			pos := p.at(key)
			if p.erbAt(pos) {
				return
			}
			out = append(out, Finding{
				Severity: Error, File: pos.File, Line: pos.Line,
				Message: name + " is a literal password in the config",
				Fix:     "write password: [KAMAL_REGISTRY_PASSWORD] and set KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD in .kamal/secrets; rotate the password",
			})
		}
		if c.Registry != nil {
			check(kp("registry", "password"), c.Registry.Password, c.Registry.PasswordSecret)
		}
		for _, a := range c.Accessories {
			if a.Registry != nil {
				check(kp("accessories", a.Name, "registry", "password"), a.Registry.Password, a.Registry.PasswordSecret)
			}
		}
		return out
	},
}

var checkSecretsMasterKey = Check{
	ID:    "secrets-master-key",
	Title: "RAILS_MASTER_KEY reaches the app when it has encrypted credentials",
	Run: func(p *Project) []Finding {
		r := p.primaryRole()
		if r == nil || !(p.Exists(CredentialsPath) || p.Exists(ProdCredentialsPa)) {
			return nil
		}
		for _, s := range r.Env.Secret {
			if s.Name == "RAILS_MASTER_KEY" {
				return nil
			}
		}
		if _, inClear := r.Env.Clear["RAILS_MASTER_KEY"]; inClear {
			return nil // secrets-env-clear reports it
		}
		pos := p.at(kp("env", "secret"), "env")
		return []Finding{{
			Severity: Error, File: pos.File, Line: pos.Line,
			Message: "config/credentials.yml.enc exists but RAILS_MASTER_KEY is not in env.secret: the app cannot read its credentials",
			Fix:     "add RAILS_MASTER_KEY to env.secret and RAILS_MASTER_KEY=$(cat config/master.key) to .kamal/secrets",
		}}
	},
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

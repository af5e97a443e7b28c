package spec

import (
	"context"
	"testing"
)

// A Kamal 1 app with .env and no .kamal/secrets: .env (and .env.<dest>
// over it) is read before ERB and for env.secret, over the shell's values,
// as Kamal 1's Dotenv.overload did.
func TestKamal1DotenvWithoutKamalSecrets(t *testing.T) {
	files := map[string]string{
		"config/deploy.yml": okHead + "servers: [1.2.3.4]\n" +
			"env:\n  clear:\n    DB_HOST: <%= ENV[\"DB_HOST\"] %>\n  secret: [DB_PASSWORD]\n",
		"config/deploy.staging.yml": "\n",
		".env":                      "DB_HOST=db.internal\nDB_PASSWORD=from-dotenv\n",
		".env.staging":              "DB_PASSWORD=from-dotenv-staging\n",
	}
	t.Setenv("DB_PASSWORD", "from-shell")
	dir := writeApp(t, files)
	for dest, want := range map[string]string{"": "from-dotenv", "staging": "from-dotenv-staging"} {
		c, err := Load(context.Background(), LoadOptions{Dir: dir, Destination: dest})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Env.Clear["DB_HOST"]; got != "db.internal" {
			t.Errorf("-d %q: ERB saw DB_HOST=%q, want .env's", dest, got)
		}
		if got, _ := c.Secret("DB_PASSWORD"); got != want {
			t.Errorf("-d %q: DB_PASSWORD = %q, want %q", dest, got, want)
		}
	}

	files[".kamal/secrets"] = "DB_PASSWORD=from-kamal-secrets\n"
	c, err := Load(context.Background(), LoadOptions{Dir: writeApp(t, files)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Secret("DB_PASSWORD"); got != "from-kamal-secrets" {
		t.Errorf("with .kamal/secrets: DB_PASSWORD = %q, want the secrets file's", got)
	}
	if got := c.Env.Clear["DB_HOST"]; got != "" {
		t.Errorf("with .kamal/secrets, .env was still read (DB_HOST=%q)", got)
	}
}

package spec

import (
	"context"
	"testing"
)

// Kamal sets KAMAL_DESTINATION before it renders ERB and reads the
// secrets files; without -d it is unset, whatever the shell holds.
func TestKamalDestinationBeforeERBAndSecrets(t *testing.T) {
	dir := writeApp(t, map[string]string{
		"config/deploy.yml": okHead + "servers: [1.2.3.4]\n" +
			"env:\n  clear:\n    DEST: <%= ENV.fetch(\"KAMAL_DESTINATION\", \"none\") %>\n  secret: [FROM_VAR, FROM_CMD]\n",
		"config/deploy.staging.yml": "\n",
		".kamal/secrets.staging":    "FROM_VAR=v-${KAMAL_DESTINATION}\nFROM_CMD=$(echo c-$KAMAL_DESTINATION)\nFROM_SHELL=$(sh -c 'echo s-$KAMAL_DESTINATION')\n",
		".kamal/secrets":            "FROM_VAR=v-[${KAMAL_DESTINATION}]\nFROM_CMD=$(sh -c 'echo c-[$KAMAL_DESTINATION]')\n",
	})
	t.Setenv("KAMAL_DESTINATION", "stale")
	c, err := Load(context.Background(), LoadOptions{Dir: dir, Destination: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Env.Clear["DEST"]; got != "staging" {
		t.Errorf("ERB saw KAMAL_DESTINATION=%q, want staging", got)
	}
	for name, want := range map[string]string{"FROM_VAR": "v-staging", "FROM_CMD": "c-staging"} {
		if got, _ := c.Secret(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	c, err = Load(context.Background(), LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Env.Clear["DEST"]; got != "none" {
		t.Errorf("without -d ERB saw KAMAL_DESTINATION=%q, want it unset", got)
	}
	for name, want := range map[string]string{"FROM_VAR": "v-[]", "FROM_CMD": "c-[]"} {
		if got, _ := c.Secret(name); got != want {
			t.Errorf("without -d %s = %q, want %q", name, got, want)
		}
	}
}

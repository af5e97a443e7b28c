package spec

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// Each plain scalar whose meaning differs between YAML 1.2 (yaml.v3) and
// Kamal's Psych (YAML 1.1), as an env value: what Kamal's to_s gives.
var psychCases = []struct{ name, yaml, want string }{
	{"yes", "yes", "true"},
	{"Yes", "Yes", "true"},
	{"no", "no", "false"},
	{"on", "on", "true"},
	{"OFF", "OFF", "false"},
	{"mixed case", "yEs", "true"},
	{"y stays a string", "y", "y"},
	{"n stays a string", "n", "n"},
	{"octal", "0755", "493"},
	{"negative octal", "-010", "-8"},
	{"08 is no octal", "08", "08"},
	{"hex", "0x1F", "31"},
	{"binary", "0b101", "5"},
	{"digit separators", "1_000", "1000"},
	{"legacy commas", "1,000", "1000"},
	{"plus sign", "+12", "12"},
	{"big integer", "123456789012345678901234567890", "123456789012345678901234567890"},
	{"sexagesimal", "1:30", "5400"},
	{"sexagesimal h:m:s", "1:02:03", "3723"},
	{"sexagesimal float", "1:30.5", "5430.0"},
	{"float trailing zero", "1.10", "1.1"},
	{"float dot", "1.", "1.0"},
	{"leading dot", ".5", "0.5"},
	{"float exponent", "1.5e+3", "1500.0"},
	{"float big", "1.0e+20", "1.0e+20"},
	{"float small", "0.00001", "1.0e-05"},
	{"1e3 is a string", "1e3", "1e3"},
	{"infinity", ".inf", "Infinity"},
	{"negative infinity", "-.Inf", "-Infinity"},
	{"nan", ".NaN", "NaN"},
	{"tilde null", "~", ""},
	{"null any case", "nUll", ""},
	{"symbol", ":fast", "fast"},
	{"date padded", "2024-1-5", "2024-01-05"},
	{"no such date", "2024-02-30", "2024-02-30"},
	{"double quoted", `"yes"`, "yes"},
	{"single quoted", `'0755'`, "0755"},
	{"explicit str tag", "!!str on", "on"},
	{"version-looking", "1.2.3", "1.2.3"},
	{"word", "production", "production"},
}

func TestPsychScalarsAsEnvValues(t *testing.T) {
	var b strings.Builder
	b.WriteString(okHead + "servers: [1.2.3.4]\nenv:\n  clear:\n")
	for i, tc := range psychCases {
		fmt.Fprintf(&b, "    V%d: %s\n", i, tc.yaml)
	}
	c, err := LoadBytes(context.Background(), "config/deploy.yml", []byte(b.String()), LoadOptions{NoSecretsFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range psychCases {
		if got := c.Env.Clear[fmt.Sprintf("V%d", i)]; got != tc.want {
			t.Errorf("%s: %s reads as %q, want %q (as Psych)", tc.name, tc.yaml, got, tc.want)
		}
	}
}

// Typed keys read Psych's values too: on/off/yes/no booleans, octal and
// base-60 integers, `ssh.config: no`; keys themselves are kept as written.
func TestPsychScalarsInTypedKeys(t *testing.T) {
	c, err := LoadBytes(context.Background(), "config/deploy.yml", []byte(okHead+`servers: [1.2.3.4]
retain_containers: 010
boot:
  parallel_roles: on
ssh:
  config: no
labels:
  on: "x"
`), LoadOptions{NoSecretsFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.RetainContainers != 8 {
		t.Errorf("retain_containers: 010 = %d, want 8 (octal, as Psych)", c.RetainContainers)
	}
	if !c.Boot.ParallelRoles {
		t.Errorf("boot.parallel_roles: on read as false")
	}
	if c.SSH.Config == nil || len(c.SSH.Config) != 0 {
		t.Errorf("ssh.config: no = %v, want no config files", c.SSH.Config)
	}
	var keys []string
	for k := range c.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "on" {
		t.Errorf("label keys %v, want [on] as written", keys)
	}
}

func TestRubyFloat(t *testing.T) {
	for f, want := range map[float64]string{
		1: "1.0", 1.5: "1.5", 1e15: "1000000000000000.0", 1e16: "1.0e+16", 123456.789: "123456.789",
		0.0001: "0.0001", 0.00012: "0.00012", 1.2e-5: "1.2e-05", -2.5: "-2.5", 1.5e300: "1.5e+300",
	} {
		if got := rubyFloat(f); got != want {
			t.Errorf("rubyFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

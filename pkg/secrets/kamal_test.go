package secrets

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// `kamal secrets` and `bin/kamal secrets` never reach the shell: they run
// in process with their words split as Kamal splits them, $SECRETS
// substituted first; any other command (kamal deploy too) goes to Run.
func TestKamalSecretsRunInProcess(t *testing.T) {
	var inline [][]string
	var shell []string
	opts := Options{
		Inline: func(_ context.Context, args, _ []string) (string, error) {
			inline = append(inline, args)
			if args[0] == "fetch" {
				return `\{\"v/i/A\":\"x\ y\"\}`, nil // as Kamal's --inline escapes it
			}
			return "extracted", nil
		},
		Run: func(_ context.Context, cmd string, _ []string) (string, error) {
			shell = append(shell, cmd)
			return "shell", nil
		},
	}
	in := "S=$(kamal secrets fetch -a 1password --from v/i A)\n" +
		"A=$(kamal secrets extract A $S)\n" +
		"B=$(bin/kamal  secrets extract A ${S})\n" +
		"C=$(kamal deploy)\n"
	got, err := Parse(context.Background(), ".kamal/secrets", []byte(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	json := `{"v/i/A":"x y"}`
	want := [][]string{{"fetch", "-a", "1password", "--from", "v/i", "A"}, {"extract", "A", json}, {"extract", "A", json}}
	if !reflect.DeepEqual(inline, want) {
		t.Errorf("in-process calls %q\nwant %q", inline, want)
	}
	if strings.Join(shell, ";") != "kamal deploy" || got["A"] != "extracted" || got["C"] != "shell" {
		t.Errorf("shell calls %q, values %q", shell, got)
	}
}

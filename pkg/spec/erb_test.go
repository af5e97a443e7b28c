package spec

import (
	"strings"
	"testing"
)

func TestRenderERB(t *testing.T) {
	env := erbEnv{lookup: lookupIn(map[string]string{"HOST": "1.2.3.4", "EMPTY": ""}), arch: "arm64"}
	tests := []struct{ in, want string }{
		{`a: <%= ENV["HOST"] %>`, "a: 1.2.3.4"},
		{`a: <%= ENV['HOST'] %>`, "a: 1.2.3.4"},
		{`a: "<%= ENV["MISSING"] %>"`, `a: ""`},
		{`a: <%= ENV.fetch("HOST") %>`, "a: 1.2.3.4"},
		{`a: <%= ENV.fetch("MISSING", "dflt") %>`, "a: dflt"},
		{`a: <%= ENV.fetch('MISSING') { 'blk' } %>`, "a: blk"},
		{`a: <%= ENV.fetch("EMPTY", "dflt") %>`, "a: "},
		{`u: <%= "my-user" %>`, "u: my-user"},
		{`b: <%= Kamal::Utils.docker_arch == "arm64" ? "amd64" : "arm64" %>`, "b: amd64"},
		{`b: <%= ENV["MISSING"] ? "y" : "n" %>`, "b: n"},
		{`c: <%# a comment %>x`, "c: x"},
		{`d: <%%= literal`, "d: <%= literal"},
		{"# old: <%= %x(aws ecr get-login-password) %>\ne: 1", "# old: <%= %x(aws ecr get-login-password) %>\ne: 1"},
		{`f: <%= ENV["HOST"] -%>`, "f: 1.2.3.4"},
	}
	for _, tc := range tests {
		got, err := renderERB("deploy.yml", []byte(tc.in), env)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{
		`<%= File.read("x") %>`, `<%= "a#{1}" %>`, `<% x = 1 %>`, `<%= ENV["A"] + "b" %>`, `<%= ENV.fetch("NOPE") %>`, `<%= "open %>`,
	} {
		_, err := renderERB("deploy.yml", []byte("k: 1\n"+bad), env)
		if err == nil || !strings.HasPrefix(err.Error(), "deploy.yml:2: ERB ") {
			t.Errorf("%s: want deploy.yml:2 ERB error, got %v", bad, err)
		}
	}
}

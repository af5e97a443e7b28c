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

func TestRenderERBFile(t *testing.T) {
	lookup := lookupIn(map[string]string{"DB_PASSWORD": "s3cret", "PORT": "5432"})
	tests := []struct{ name, in, want string }{
		{"substitution", "[client]\npassword=<%= ENV[\"DB_PASSWORD\"] %>\nport=<%= ENV.fetch(\"PORT\") %>\n",
			"[client]\npassword=s3cret\nport=5432\n"},
		{"default", `user=<%= ENV.fetch("DB_USER", "app") %>`, "user=app"},
		{"no tags", "plain # not ERB\n", "plain # not ERB\n"},
		// Not YAML: a # line is rendered like any other (Ruby's ERB does).
		{"hash line", "# password <%= ENV['DB_PASSWORD'] %>", "# password s3cret"},
	}
	for _, tc := range tests {
		got, err := RenderERBFile("config/my.cnf.erb", []byte(tc.in), lookup)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}

	errs := []struct{ name, in, want string }{
		{"unset fetch", "a=1\nb=<%= ENV.fetch(\"MISSING\") %>", "config/my.cnf.erb:2: ERB "},
		{"unsupported ruby", "a=1\n\n<% if ENV[\"X\"] %>x<% end %>", "config/my.cnf.erb:3: ERB "},
		{"method call", `<%= File.read("/etc/passwd") %>`, "config/my.cnf.erb:1: ERB "},
	}
	for _, tc := range errs {
		_, err := RenderERBFile("config/my.cnf.erb", []byte(tc.in), lookup)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: want error starting %q, got %v", tc.name, tc.want, err)
			continue
		}
		if tc.name == "unset fetch" && !strings.Contains(err.Error(), "MISSING is not set") {
			t.Errorf("%s: error does not name the variable: %v", tc.name, err)
		}
	}

	// A nil lookup is an empty environment, not a panic.
	if _, err := RenderERBFile("f.erb", []byte(`<%= ENV.fetch("X") %>`), nil); err == nil {
		t.Error("nil lookup: ENV.fetch of an unset name did not fail")
	}
}

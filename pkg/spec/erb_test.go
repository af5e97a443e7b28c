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
		if got, ok := locate(err); !ok || got.File != "deploy.yml" || got.Line != 2 || !strings.HasPrefix(got.Msg, "ERB ") {
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

	errs := []struct {
		name, in string
		line     int
	}{
		{"unset fetch", "a=1\nb=<%= ENV.fetch(\"MISSING\") %>", 2},
		{"unsupported ruby", "a=1\n\n<% if ENV[\"X\"] %>x<% end %>", 3},
		{"method call", `<%= File.read("/etc/passwd") %>`, 1},
	}
	for _, tc := range errs {
		_, err := RenderERBFile("config/my.cnf.erb", []byte(tc.in), lookup)
		got, ok := locate(err)
		if !ok || got.File != "config/my.cnf.erb" || got.Line != tc.line || !strings.HasPrefix(got.Msg, "ERB ") {
			t.Errorf("%s: want an ERB error at config/my.cnf.erb:%d, got %v", tc.name, tc.line, err)
			continue
		}
		if tc.name == "unset fetch" && !strings.HasSuffix(got.Msg, "MISSING is not set") {
			t.Errorf("%s: error does not name the variable: %v", tc.name, err)
		}
	}

	// A nil lookup is an empty environment, not a panic.
	if _, err := RenderERBFile("f.erb", []byte(`<%= ENV.fetch("X") %>`), nil); err == nil {
		t.Error("nil lookup: ENV.fetch of an unset name did not fail")
	}
}

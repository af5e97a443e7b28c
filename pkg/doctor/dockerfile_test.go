package doctor

import (
	"reflect"
	"testing"
)

func TestParseDockerfile(t *testing.T) {
	src := `# syntax=docker/dockerfile:1
# escape=\
ARG RUBY_VERSION=3.3.6
FROM ruby:$RUBY_VERSION-slim AS base
ENV A=1 \
    # a comment inside a continuation
    B="two words"
FROM --platform=linux/amd64 base as build
RUN <<EOF
apt-get install -y gcc
EOF
ENV LEGACY some value
FROM base
USER rails
`
	d := ParseDockerfile("Dockerfile", []byte(src))
	if len(d.Stages) != 3 {
		t.Fatalf("stages = %d, want 3", len(d.Stages))
	}
	if got := []string{d.Stages[0].Base, d.Stages[0].Name, d.Stages[1].Base, d.Stages[1].Name, d.Final().Base}; !reflect.DeepEqual(got, []string{"ruby:$RUBY_VERSION-slim", "base", "base", "build", "base"}) {
		t.Errorf("bases/names = %q", got)
	}
	if v, line, ok := d.Arg("RUBY_VERSION"); !ok || v != "3.3.6" || line != 3 {
		t.Errorf("Arg = %q %d %v", v, line, ok)
	}
	if got := d.Stages[0].Env(); !reflect.DeepEqual(got, []EnvVar{{"A", "1", 5}, {"B", "two words", 5}}) {
		t.Errorf("env = %+v", got)
	}
	if got := d.Stages[1].Env(); !reflect.DeepEqual(got, []EnvVar{{"LEGACY", "some value", 12}}) {
		t.Errorf("legacy env = %+v", got)
	}
	run := d.Stages[1].Instructions[0]
	if run.Cmd != "RUN" || run.Line != 9 || installedBuildTools(run.Args) == nil {
		t.Errorf("heredoc RUN = %+v", run)
	}
	if us := d.Final().Users(); len(us) != 1 || us[0].Args != "rails" || us[0].Line != 14 {
		t.Errorf("users = %+v", us)
	}
}

func TestParseDockerfileEscapeDirective(t *testing.T) {
	d := ParseDockerfile("Dockerfile", []byte("# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\nUSER x\n"))
	ins := d.Final().Instructions
	if len(ins) != 2 || ins[0].Args != `dir c:\` || ins[1].Cmd != "USER" {
		t.Errorf("instructions = %+v", ins)
	}
}

func TestInstalledBuildTools(t *testing.T) {
	tests := []struct {
		run  string
		want []string
	}{
		{"apt-get update && apt-get install -y --no-install-recommends build-essential git libpq-dev", []string{"build-essential", "git"}},
		{"apk add --no-cache gcc=12.2.1-r0 g++", []string{"gcc", "g++"}},
		{"npm install -g node-gyp", []string{"node-gyp"}},
		{"apt-get install -y curl libjemalloc2", nil},
		{"git clone https://example.com/x", nil}, // not an install
		{"apt-get install -y build-essential && make && apt-get purge -y build-essential", nil},
	}
	for _, tt := range tests {
		if got := installedBuildTools(tt.run); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("installedBuildTools(%q) = %q, want %q", tt.run, got, tt.want)
		}
	}
}

func TestSecretHelpers(t *testing.T) {
	for name, want := range map[string]bool{
		"DB_PASSWORD": true, "SECRET_KEY_BASE": true, "GITHUB_TOKEN": true, "RAILS_MASTER_KEY": true,
		"APIKEY": true, "STRIPE_PUBLISHABLE_KEY": false, "PUBLIC_KEY": false, "KEYBOARD": false, "RAILS_ENV": false,
	} {
		if got := secretName(name); got != want {
			t.Errorf("secretName(%q) = %v", name, got)
		}
	}
	for v, want := range map[string]bool{
		"plain": true, "'single $NOT'": true, "$VAR": false, "${VAR}": false, "$(cat x)": false,
		`"pre-$VAR"`: false, "": false, `""`: false,
	} {
		if got := literalValue(v); got != want {
			t.Errorf("literalValue(%q) = %v", v, got)
		}
	}
	for u, want := range map[string]bool{
		"postgres://u:p@h/db": true, "redis://:p@h:6379": true, "postgres://u@h/db": false, "https://h/x?a=b:c@d": false,
	} {
		if got := credentialURLRE.MatchString(u); got != want {
			t.Errorf("credentialURL(%q) = %v", u, got)
		}
	}
}

func TestCodeLine(t *testing.T) {
	for in, want := range map[string]string{
		`config.force_ssl = true # note`: `config.force_ssl = true `,
		`  # config.force_ssl = true`:    `  `,
		`x = "a # b"`:                    `x = "a # b"`,
		`puts "#{x}" # y`:                `puts "#{x}" `,
		`echo ${#arr[@]} $#`:             `echo ${#arr[@]} $#`,
	} {
		if got := codeLine(in); got != want {
			t.Errorf("codeLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReportScrubsSecrets(t *testing.T) {
	r := NewReport([]Finding{{Severity: Error, Check: "x", Message: "value hunter2secret leaked", Fix: "hunter2secret"}}, []string{"hunter2secret", "ab"})
	if r.Findings[0].Message != "value [REDACTED] leaked" || r.Findings[0].Fix != "[REDACTED]" {
		t.Errorf("not scrubbed: %+v", r.Findings[0])
	}
	if r.OK() || r.SummaryLine() != "1 error, 0 warnings, 0 infos" {
		t.Errorf("summary %q", r.SummaryLine())
	}
}

func FuzzParseDockerfile(f *testing.F) {
	f.Add([]byte("FROM a AS b\nRUN x \\\n y\nUSER 1\n"))
	f.Add([]byte("# escape=`\nFROM a\nRUN <<EOF\nx\nEOF\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		d := ParseDockerfile("Dockerfile", src)
		for _, s := range d.Stages {
			s.Env()
			for _, in := range s.Instructions {
				installedBuildTools(in.Args)
			}
		}
		d.Arg("RUBY_VERSION")
	})
}

package doctor

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Ruby runtime checks: jemalloc (less fragmentation, much lower RSS for
// threaded Pumas) and YJIT on Ruby 3.2+.

var checkRubyJemalloc = Check{
	ID:    "ruby-jemalloc",
	Title: "Ruby runs with jemalloc",
	Run: func(p *Project) []Finding {
		if !p.Ruby() || p.Dockerfile.Final() == nil {
			return nil
		}
		jemalloc := func(v string) bool { return strings.Contains(v, "jemalloc") }
		if p.hasEnv("LD_PRELOAD", jemalloc) {
			return nil
		}
		if e := p.Entrypoint; e != nil && strings.Contains(e.Text(), "LD_PRELOAD") && strings.Contains(e.Text(), "jemalloc") {
			return nil
		}
		return []Finding{{
			Severity: Warn, File: p.Dockerfile.Path, Line: p.Dockerfile.Final().Line,
			Message: "Ruby runs with glibc malloc: no LD_PRELOAD of libjemalloc in the final image",
			Fix:     `install libjemalloc2 in the final stage and set ENV LD_PRELOAD="libjemalloc.so.2"`,
		}}
	},
}

var (
	loadDefaultsRE = regexp.MustCompile(`^\s*config\.load_defaults\s+(\d+)\.(\d+)`)
	yjitConfigRE   = regexp.MustCompile(`config\.yjit\s*=\s*true|RubyVM::YJIT\.enable`)
)

// yjitByRails reports whether Rails turns YJIT on itself: config.yjit,
// RubyVM::YJIT.enable in an initializer, or load_defaults 7.2+ on Ruby 3.3+.
func (p *Project) yjitByRails(major, minor int) bool {
	if _, ok := p.Application.First(yjitConfigRE); ok {
		return true
	}
	if m, ok := p.Application.First(loadDefaultsRE); ok && (major > 3 || major == 3 && minor >= 3) {
		g := loadDefaultsRE.FindStringSubmatch(m.Text)
		a, _ := strconv.Atoi(g[1])
		b, _ := strconv.Atoi(g[2])
		if a > 7 || a == 7 && b >= 2 {
			return true
		}
	}
	inits, _ := filepath.Glob(filepath.Join(p.Root, "config", "initializers", "*.rb"))
	sort.Strings(inits)
	for _, f := range inits {
		rel, err := filepath.Rel(p.Root, f)
		if err != nil {
			continue
		}
		if _, ok := p.File(filepath.ToSlash(rel)).First(yjitConfigRE); ok {
			return true
		}
	}
	return false
}

var checkRubyYJIT = Check{
	ID:    "ruby-yjit",
	Title: "YJIT is on for Ruby 3.2 and later",
	Run: func(p *Project) []Finding {
		if !p.Ruby() {
			return nil
		}
		major, minor, file, line, ok := p.RubyVersion()
		if !ok || major < 3 || major == 3 && minor < 2 {
			return nil
		}
		on := func(v string) bool { return v == "1" || v == "true" }
		if p.hasEnv("RUBY_YJIT_ENABLE", on) || p.yjitByRails(major, minor) {
			return nil
		}
		return []Finding{{
			Severity: Warn, File: file, Line: line,
			Message: fmt.Sprintf("Ruby %d.%d runs without YJIT", major, minor),
			Fix:     "set RUBY_YJIT_ENABLE=1 (env.clear in config/deploy.yml or ENV in the Dockerfile)",
		}}
	},
}

// Package railsinit is `docker kamal init --rails`: it writes what
// `docker kamal doctor` wants to see in a Rails app (a multi-stage
// Dockerfile, an entrypoint using db:prepare, a deploy config with health
// check, memory limits, TLS, migrations, YJIT, accessories and a backup
// alias, a staging destination and a secrets file without literal values).
// It never overwrites a file: for one that exists it prints the difference
// as advice.
package railsinit

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/dockerkamal/docker-kamal/pkg/doctor"
)

//go:embed templates
var templates embed.FS

// DefaultRubyVersion is used when the app does not say which Ruby it runs.
const DefaultRubyVersion = "3.3.6"

// File is one file init --rails writes.
type File struct {
	// Path is relative to the app root.
	Path     string
	Template string
	Mode     os.FileMode
}

// Files are written in this order.
var Files = []File{
	{"Dockerfile", "Dockerfile.tmpl", 0o644},
	{"bin/docker-entrypoint", "docker-entrypoint.tmpl", 0o755},
	{"config/deploy.yml", "deploy.yml.tmpl", 0o644},
	{"config/deploy.staging.yml", "deploy.staging.yml.tmpl", 0o644},
	{".kamal/secrets", "secrets.tmpl", 0o600},
	{".kamal/secrets.staging", "secrets.tmpl", 0o600},
}

// App is what the templates are filled with, read from the app.
type App struct {
	Service string
	// DNSName is Service as a DNS label (no underscores) for host names.
	DNSName          string
	RubyVersion      string
	JobCmd           string
	DBImage          string
	DBPort           string
	DBDataDir        string
	DBEnv            []string
	DBPasswordSecret string
	DBClientPackage  string
	DBDevPackage     string
	BackupAlias      string
}

var (
	moduleRE      = regexp.MustCompile(`(?m)^module\s+([A-Z][A-Za-z0-9]*)`)
	camelRE       = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	rubyVersionRE = regexp.MustCompile(`\d+\.\d+(\.\d+)?`)
	gemRE         = func(name string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^\s*gem\s+["']` + regexp.QuoteMeta(name) + `["']`)
	}
)

// Detect reads the app at root: its name (config/application.rb's module,
// else the directory), Ruby version, database and job runner.
func Detect(root string) App {
	read := func(rel string) string {
		b, _ := os.ReadFile(filepath.Join(root, rel))
		return string(b)
	}
	a := App{RubyVersion: DefaultRubyVersion, JobCmd: "bin/jobs"}
	if m := moduleRE.FindStringSubmatch(read(doctor.ApplicationPath)); m != nil {
		a.Service = strings.ToLower(camelRE.ReplaceAllString(m[1], "${1}_${2}"))
	} else {
		abs, _ := filepath.Abs(root)
		a.Service = serviceName(filepath.Base(abs))
	}
	if v := rubyVersionRE.FindString(read(doctor.RubyVersionPath)); v != "" {
		a.RubyVersion = v
	}
	a.DNSName = strings.ReplaceAll(a.Service, "_", "-")
	gemfile := read(doctor.GemfilePath)
	if gemRE("sidekiq").MatchString(gemfile) {
		a.JobCmd = "bundle exec sidekiq"
	}
	if gemRE("mysql2").MatchString(gemfile) || gemRE("trilogy").MatchString(gemfile) {
		a.DBImage, a.DBPort, a.DBDataDir = "mysql:8.4", "3306", "/var/lib/mysql"
		a.DBPasswordSecret = "MYSQL_ROOT_PASSWORD"
		a.DBEnv = []string{"MYSQL_DATABASE: " + a.Service + "_production"}
		a.DBClientPackage, a.DBDevPackage = "default-mysql-client", "default-libmysqlclient-dev"
	} else {
		a.DBImage, a.DBPort, a.DBDataDir = "postgres:16", "5432", "/var/lib/postgresql/data"
		a.DBPasswordSecret = "POSTGRES_PASSWORD"
		a.DBEnv = []string{"POSTGRES_USER: " + a.Service, "POSTGRES_DB: " + a.Service + "_production"}
		a.DBClientPackage, a.DBDevPackage = "postgresql-client", "libpq-dev"
	}
	a.BackupAlias = doctor.BackupAlias("db", a.DBImage)
	return a
}

// serviceName makes a Kamal service name from a directory name.
func serviceName(dir string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(dir) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	s := strings.TrimLeft(b.String(), "_-")
	if s == "" {
		return "app"
	}
	return s
}

// Render fills the template of f for a.
func Render(f File, a App) ([]byte, error) {
	t, err := template.ParseFS(templates, "templates/"+f.Template)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", f.Template, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, a); err != nil {
		return nil, fmt.Errorf("render %s: %w", f.Path, err)
	}
	return b.Bytes(), nil
}

// Write writes every file into root that does not exist yet, prints the
// difference for those that do, then notes for Rails settings it does not
// edit (routes, force_ssl). It reports what it did on w.
func Write(root string, w io.Writer) error {
	a := Detect(root)
	for _, f := range Files {
		data, err := Render(f, a)
		if err != nil {
			return err
		}
		path := filepath.Join(root, filepath.FromSlash(f.Path))
		created, err := WriteNew(path, data, f.Mode)
		if err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		if created {
			say(w, "Created %s\n", f.Path)
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", f.Path, err)
		}
		if d := Diff(f.Path+" (yours)", f.Path+" (suggested)", string(old), string(data)); d != "" {
			say(w, "Kept existing %s; consider these changes:\n%s", f.Path, indent(d))
		} else {
			say(w, "Kept existing %s (already as suggested)\n", f.Path)
		}
	}
	for _, n := range Notes(root) {
		say(w, "Note: %s\n", n)
	}
	return nil
}

// say reports on w what Write did. A failed report is not an error of
// Write: the files are what init makes, the report only describes them.
func say(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}

func indent(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "")
}

var (
	upRouteRE  = regexp.MustCompile(`["']/?up["']`)
	forceSSLRE = regexp.MustCompile(`(?m)^\s*config\.force_ssl\s*=\s*true`)
	assumeRE   = regexp.MustCompile(`(?m)^\s*config\.assume_ssl\s*=\s*true`)
	excludeRE  = regexp.MustCompile(`(?m)^\s*config\.ssl_options\s*=.*exclude.*["']/up["']`)
)

// Notes are the changes to Rails files that init --rails advises rather
// than makes: a /up health route and force_ssl that spares /up.
func Notes(root string) []string {
	read := func(rel string) (string, bool) {
		b, err := os.ReadFile(filepath.Join(root, rel))
		return string(b), err == nil
	}
	var notes []string
	if routes, ok := read(doctor.RoutesPath); ok && !hasUpRoute(routes) {
		notes = append(notes, `config/routes.rb has no /up route for the health check; add:
    get "up" => "rails/health#show", as: :rails_health_check`)
	}
	if prod, ok := read(doctor.ProductionPath); ok {
		switch {
		case !forceSSLRE.MatchString(prod):
			notes = append(notes, `config/environments/production.rb does not force SSL; add:
    config.assume_ssl = true
    config.force_ssl = true
    config.ssl_options = { redirect: { exclude: ->(request) { request.path == "/up" } } }`)
		case !assumeRE.MatchString(prod) && !excludeRE.MatchString(prod):
			notes = append(notes, `config/environments/production.rb forces SSL for /up too, so the plain-HTTP health check is redirected; add:
    config.ssl_options = { redirect: { exclude: ->(request) { request.path == "/up" } } }`)
		}
	}
	return notes
}

func hasUpRoute(routes string) bool {
	for _, l := range strings.Split(routes, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.Contains(l, "rails/health#show") || (strings.HasPrefix(l, "get") && upRouteRE.MatchString(l)) {
			return true
		}
	}
	return false
}

// WriteNew creates path with data unless it exists (O_EXCL: a file created
// meanwhile is not clobbered either) and reports whether it did. `init`
// writes its starter files the same way.
func WriteNew(path string, data []byte, mode os.FileMode) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()       // the write error is the one to report
		_ = os.Remove(path) // best effort: a partial file would be kept as "existing" next time
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	return true, os.Chmod(path, mode)
}

// Package errorpages stores the apps' error pages (Kamal's
// error_pages_path) on the host and serves them to Traefik's errors
// middleware (sidecar side; standard library only).
//
// A page is an html/template: {{.Message}} is the maintenance message
// while the role is in maintenance (a 503), else empty, as kamal-proxy
// renders its pages. A page that is no valid template is served as is.
package errorpages

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/atomicfile"
	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Store keeps each route's pages in Dir/<route>/<status>.html.
type Store struct{ Dir string }

// Put replaces route's pages with pages (status → HTML).
func (s Store) Put(route string, pages map[string]string) error {
	if !validRoute(route) {
		return fmt.Errorf("store error pages: bad route name %q", route)
	}
	dir := filepath.Join(s.Dir, route)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("store error pages of %s: %w", route, err)
	}
	for _, st := range contract.ErrorPageStatuses {
		p := filepath.Join(dir, st+".html")
		page, ok := pages[st]
		var err error
		if ok {
			err = atomicfile.WriteFile(p, []byte(page), 0o644)
		} else if err = atomicfile.Remove(p); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("store error pages of %s: %w", route, err)
		}
	}
	return nil
}

// validRoute reports whether route can name a directory of Dir.
func validRoute(route string) bool {
	return route != "" && route != "." && route != ".." && !strings.ContainsAny(route, `/\`)
}

// Handler serves GET contract.ErrorPagesPath<route>/<status>.html;
// message(route) is the route's maintenance message ("" when live).
func (s Store) Handler(message func(route string) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, file, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, contract.ErrorPagesPath), "/")
		status := strings.TrimSuffix(file, ".html")
		if !ok || !validRoute(route) || !slices.Contains(contract.ErrorPageStatuses, status) {
			http.NotFound(w, r)
			return
		}
		body := []byte(http.StatusText(atoi(status)))
		if page, err := os.ReadFile(filepath.Join(s.Dir, route, status+".html")); err == nil {
			body = render(page, message(route))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body) // a failed write means the client is gone
	})
}

// render executes page as a template with Message, or returns it as is.
func render(page []byte, message string) []byte {
	t, err := template.New("page").Parse(string(page))
	if err != nil {
		return page
	}
	var b bytes.Buffer
	if err := t.Execute(&b, struct{ Message string }{message}); err != nil {
		return page
	}
	return b.Bytes()
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

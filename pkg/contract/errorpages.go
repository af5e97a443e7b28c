package contract

// Error pages (Kamal's error_pages_path): the app's own pages for the
// errors the proxy answers itself. The plugin sends them in the spec; the
// sidecar stores them and serves them, on MaintenancePort, to the Traefik
// errors middleware of the role's router.

import (
	"fmt"
	"net"
	"strconv"
)

// ErrorPageStatuses are the statuses whose page the proxy serves: the
// answers Traefik gives itself when the app cannot (502 no answer, 503 no
// server or maintenance, 504 too slow), as kamal-proxy does.
var ErrorPageStatuses = []string{"502", "503", "504"}

// ErrorPagesPath is the path prefix the sidecar serves pages under:
// ErrorPagesPath + <route name> + "/" + <status> + ".html".
const ErrorPagesPath = "/_kamal/error-pages/"

// MaxErrorPagesBytes bounds the pages of one role.
const MaxErrorPagesBytes = 1 << 20

// ErrorPagesServer is the URL Traefik reaches the sidecar's page server at,
// on the app network.
func ErrorPagesServer() string {
	return "http://" + net.JoinHostPort(SidecarContainerName, strconv.Itoa(MaintenancePort))
}

// validateErrorPages checks the statuses and the total size.
func (p *Proxy) validateErrorPages() error {
	n := 0
	for k, v := range p.ErrorPages {
		if !isErrorPageStatus(k) {
			return &FieldError{"proxy.errorPages." + k, fmt.Sprintf("not one of the statuses %v", ErrorPageStatuses)}
		}
		n += len(v)
	}
	if n > MaxErrorPagesBytes {
		return &FieldError{"proxy.errorPages", fmt.Sprintf("%d bytes, more than %d", n, MaxErrorPagesBytes)}
	}
	return nil
}

func isErrorPageStatus(s string) bool {
	for _, st := range ErrorPageStatuses {
		if s == st {
			return true
		}
	}
	return false
}

// withoutPages is p without its error pages (p itself when it has none).
func (p *Proxy) withoutPages() *Proxy {
	if p == nil || p.ErrorPages == nil {
		return p
	}
	c := *p
	c.ErrorPages = nil
	return &c
}

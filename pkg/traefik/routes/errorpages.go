package routes

// error_pages_path: an errors middleware on the role's routers that, for
// the statuses whose page the app has, fetches the page from the sidecar's
// page server, as kamal-proxy serves the app's pages for its own errors.

import (
	"slices"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"
)

// ErrorPagesServer is the page server's URL; tests point it elsewhere.
var ErrorPagesServer = contract.ErrorPagesServer()

// errorPages adds the middleware (first, so it also sees the answers of
// the others) and its service when d carries pages.
func errorPages(d *contract.Deploy, http *dynamic.HTTPConfiguration) {
	var statuses []string
	for _, st := range contract.ErrorPageStatuses {
		if _, ok := d.Proxy.ErrorPages[st]; ok {
			statuses = append(statuses, st)
		}
	}
	if len(statuses) == 0 {
		return
	}
	name := contract.RouteName(d)
	mw, svc := name+"-error-pages", name+"-error-pages"
	lb := &dynamic.ServersLoadBalancer{}
	lb.SetDefaults()
	lb.Servers = []dynamic.Server{{URL: ErrorPagesServer}}
	http.Services[svc] = &dynamic.Service{LoadBalancer: lb}
	http.Middlewares[mw] = &dynamic.Middleware{Errors: &dynamic.ErrorPage{
		Status: statuses, Service: svc, Query: contract.ErrorPagesPath + name + "/{status}.html",
	}}
	for _, r := range http.Routers {
		if !slices.Contains(r.Middlewares, name+"-redirect") {
			r.Middlewares = append([]string{mw}, r.Middlewares...)
		}
	}
}

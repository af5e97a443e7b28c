package routes

import (
	"slices"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// TestAppMiddlewares: buffering runs before prefix stripping on the app's
// routers; with ssl_redirect the plain router only redirects.
func TestAppMiddlewares(t *testing.T) {
	d := deploy("", &contract.Proxy{Hosts: []string{"a.example.org"}, PathPrefixes: []string{"/api", "/cb"}, StripPathPrefix: true,
		Buffering: &contract.Buffering{MaxRequestBody: 10, Memory: 5}, TLS: true, SSLRedirect: true})
	conf, _, _, err := Config(d)
	if err != nil {
		t.Fatal(err)
	}
	h := conf.HTTP
	name := contract.RouteName(d)
	main, plain := h.Routers[name], h.Routers[name+"-http"]
	if want := []string{name + "-buffering", name + "-strip-prefix"}; !slices.Equal(main.Middlewares, want) {
		t.Errorf("main router middlewares %v, want %v", main.Middlewares, want)
	}
	if want := []string{name + "-redirect"}; !slices.Equal(plain.Middlewares, want) {
		t.Errorf("plain router middlewares %v, want %v", plain.Middlewares, want)
	}
	if r := main.Rule; r != "Host(`a.example.org`) && (PathPrefix(`/api`) || PathPrefix(`/cb`))" {
		t.Errorf("rule %s", r)
	}
	if b := h.Middlewares[name+"-buffering"].Buffering; b.MaxRequestBodyBytes != 10 || b.MemRequestBodyBytes != 5 {
		t.Errorf("buffering %+v", b)
	}
	if s := h.Middlewares[name+"-strip-prefix"].StripPrefix; !slices.Equal(s.Prefixes, []string{"/api", "/cb"}) {
		t.Errorf("strip prefixes %v", s.Prefixes)
	}
	if main.TLS == nil || main.TLS.CertResolver != "" {
		t.Errorf("custom-certificate router TLS %+v, want TLS without a resolver", main.TLS)
	}
}

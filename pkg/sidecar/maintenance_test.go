package sidecar

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/docker"
	"github.com/dockerkamal/docker-kamal/pkg/swap"
)

// recordingRouter remembers the last servers routed per role.
type recordingRouter struct{ routed map[string][]swap.Server }

func (r *recordingRouter) Route(_ context.Context, d *contract.Deploy, s []swap.Server) error {
	r.routed[specKey(d)] = s
	return nil
}
func (r *recordingRouter) Confirm(context.Context, *contract.Deploy, []swap.Server) error { return nil }
func (r *recordingRouter) Drain(context.Context, *contract.Deploy, []swap.Server) error   { return nil }
func (r *recordingRouter) Unroute(context.Context, *contract.Deploy) error                { return nil }

// liveAt is an engine whose containers have the address ip on the kamal
// network.
type liveAt string

func (ip liveAt) Inspect(_ context.Context, name string) (docker.Container, error) {
	return docker.Container{Name: name, IPs: map[string]string{"kamal": string(ip)}}, nil
}

func TestMaintenanceSurvivesSwapsAndRestarts(t *testing.T) {
	dir := t.TempDir()
	inner := &recordingRouter{routed: map[string][]swap.Server{}}
	m, err := newMaintenanceRouter(inner, dir, "kamal-sidecar", liveAt("10.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	d := &contract.Deploy{Service: "app", Role: "web", Version: "v1", Network: "kamal", Proxy: &contract.Proxy{Hosts: []string{"app.example.com"}, AppPort: 3000}}
	ctx := context.Background()
	responder := []swap.Server{{Container: "kamal-sidecar", Address: "kamal-sidecar:9322"}}

	if err := m.Set(ctx, d, "app-web-v1", true, "Back at <noon>"); err != nil {
		t.Fatal(err)
	}
	if got := inner.routed["app/web"]; !reflect.DeepEqual(got, responder) {
		t.Fatalf("maintenance routes %v, want the responder", got)
	}
	// A deploy during maintenance keeps the page and remembers green.
	green := []swap.Server{{Container: "app-web-v2", Address: "10.0.0.3:3000"}}
	d2 := *d
	d2.Version = "v2"
	if err := m.Route(ctx, &d2, green); err != nil {
		t.Fatal(err)
	}
	if got := inner.routed["app/web"]; !reflect.DeepEqual(got, responder) {
		t.Fatalf("a swap during maintenance routed %v", got)
	}
	// The state survives a sidecar restart.
	m2, err := newMaintenanceRouter(inner, dir, "kamal-sidecar", liveAt("10.0.0.3"))
	if err != nil {
		t.Fatal(err)
	}
	if on, msg := m2.On(sidecarapiRole("app", "web")); !on || msg != "Back at <noon>" {
		t.Fatalf("after restart: on=%v msg=%q", on, msg)
	}
	rec := httptest.NewRecorder()
	m2.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://app.example.com/x", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(string(body), "Back at &lt;noon&gt;") {
		t.Fatalf("page: %d %s", rec.Code, body)
	}
	if err := m2.Set(ctx, &d2, "app-web-v2", false, ""); err != nil {
		t.Fatal(err)
	}
	if got := inner.routed["app/web"]; !reflect.DeepEqual(got, green) {
		t.Fatalf("live routes %v, want green %v", got, green)
	}
	if on, _ := m2.On(sidecarapiRole("app", "web")); on {
		t.Fatal("still in maintenance after live")
	}
	// A role without a proxy has no page.
	if err := m2.Set(ctx, &contract.Deploy{Service: "app", Role: "job"}, "app-job-v1", true, ""); err == nil {
		t.Fatal("maintenance for a role without proxy succeeded")
	}
}

func sidecarapiRole(service, role string) contract.Role {
	return contract.Role{Service: service, Role: role}
}

// TestErrorPagesStoredAndServed: a route carrying error pages stores them;
// the page server answers them, the 503 one with the maintenance message
// while the role is in maintenance; a rollback's spec (no pages) keeps
// them.
func TestErrorPagesStoredAndServed(t *testing.T) {
	inner := &recordingRouter{routed: map[string][]swap.Server{}}
	m, err := newMaintenanceRouter(inner, t.TempDir(), "kamal-sidecar", liveAt("10.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{"503": "<p>{{.Message}}</p>", "504": "<p>slow</p>"}
	d := &contract.Deploy{Service: "app", Role: "web", Version: "v1", Network: "kamal",
		Proxy: &contract.Proxy{Hosts: []string{"app.example.com"}, AppPort: 3000, ErrorPages: pages}}
	ctx := context.Background()
	if err := m.Route(ctx, d, []swap.Server{{Container: "app-web-v1", Address: "10.0.0.2:3000"}}); err != nil {
		t.Fatal(err)
	}
	page := func(status string) (int, string) {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://kamal-sidecar:9322"+contract.ErrorPagesPath+"app-web/"+status+".html", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := page("504"); code != 200 || body != "<p>slow</p>" {
		t.Errorf("504 page: %d %q", code, body)
	}
	if _, body := page("503"); body != "<p></p>" {
		t.Errorf("503 page while live: %q", body)
	}
	if err := m.Set(ctx, d.Redacted(), "app-web-v1", true, "Back <soon>"); err != nil {
		t.Fatal(err)
	}
	if _, body := page("503"); body != "<p>Back &lt;soon&gt;</p>" {
		t.Errorf("503 page in maintenance: %q", body)
	}
	if code, _ := page("404"); code != http.StatusNotFound {
		t.Errorf("a status without pages: %d, want 404", code)
	}
	if err := m.Route(ctx, d.Redacted(), nil); err != nil {
		t.Fatal(err)
	}
	if _, body := page("504"); body != "<p>slow</p>" {
		t.Errorf("after a route without pages: %q, want the stored page", body)
	}
}

package fleetops

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

func TestImageName(t *testing.T) {
	tests := []struct{ ref, host, repo, tag string }{
		{"127.0.0.1:5000/app:v1", "127.0.0.1:5000", "app", "v1"},
		{"registry.example.com/team/app:abc_uncommitted_1", "registry.example.com", "team/app", "abc_uncommitted_1"},
		{"localhost/app", "localhost", "app", "latest"},
		{"bob/app:v2", "", "bob/app", "v2"},
		{"redis:7", "", "library/redis", "7"},
		{"host:5000/app", "host:5000", "app", "latest"},
	}
	for _, tt := range tests {
		host, repo, tag := imageName(tt.ref)
		if host != tt.host || repo != tt.repo || tag != tt.tag {
			t.Errorf("imageName(%q) = %q %q %q, want %q %q %q", tt.ref, host, repo, tag, tt.host, tt.repo, tt.tag)
		}
	}
}

func TestParseChallenge(t *testing.T) {
	c := parseChallenge(`Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull,push"`)
	want := map[string]string{"realm": "https://auth.example/token", "service": "registry.example", "scope": "repository:team/app:pull,push"}
	if c == nil || c.scheme != "bearer" || !reflect.DeepEqual(c.params, want) {
		t.Fatalf("parseChallenge = %+v, want bearer %v", c, want)
	}
	if c := parseChallenge(`Basic realm="kamal"`); c == nil || c.scheme != "basic" || c.params["realm"] != "kamal" {
		t.Fatalf("basic challenge = %+v", c)
	}
}

// testRegistry serves testManifest for app:v1 to requests with the basic
// credentials bob/testRegistryPassword, or, with bearer, to requests with
// the token its /token endpoint hands out for those credentials.
func testRegistry(t *testing.T, bearer bool) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, hasBasic := r.BasicAuth()
		goodBasic := hasBasic && user == "bob" && pass == testRegistryPassword
		switch {
		case r.URL.Path == "/token":
			if !goodBasic || r.URL.Query().Get("scope") != "repository:app:pull" {
				http.Error(w, "denied", http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, `{"token": "tok-123"}`)
		case r.URL.Path == "/v2/app/manifests/v1":
			ok := goodBasic
			if bearer {
				ok = r.Header.Get("Authorization") == "Bearer tok-123"
			}
			if !ok {
				if bearer {
					w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test",scope="repository:app:pull"`, srv.URL))
				} else {
					w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				}
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			if !strings.Contains(r.Header.Get("Accept"), "application/vnd.docker.distribution.manifest.v2+json") {
				http.Error(w, "want a v2 manifest Accept", http.StatusNotAcceptable)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
			fmt.Fprint(w, testManifest)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchLayerSizes(t *testing.T) {
	want := map[string]int64{"aaaaaaaaaaaa": 31457280, "bbbbbbbbbbbb": 2097152}
	good := &spec.Registry{Username: "bob", Password: testRegistryPassword}
	bad := &spec.Registry{Username: "bob", Password: "wrong-password"}
	tests := []struct {
		name    string
		bearer  bool
		reg     *spec.Registry
		image   string
		wantErr string
	}{
		{"basic", false, good, "app:v1", ""},
		{"bearer token", true, good, "app:v1", ""},
		{"basic, wrong password", false, bad, "app:v1", "401"},
		{"bearer, wrong password", true, bad, "app:v1", "get registry token: 401"},
		{"unknown tag", false, good, "app:v9", "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testRegistry(t, tt.bearer)
			image := strings.TrimPrefix(srv.URL, "http://") + "/" + tt.image
			got, err := fetchLayerSizes(context.Background(), srv.Client(), tt.reg, image)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testRegistryPassword) {
					t.Fatalf("password in the error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("sizes = %v, want %v", got, want)
			}
		})
	}
}

func TestParseManifestLayers(t *testing.T) {
	oci := `{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": [{"size": 5, "digest": "sha256:cccccccccccc11"}]}`
	if got, want := parseManifestLayers([]byte(oci)), map[string]int64{"cccccccccccc": 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("OCI manifest: got %v, want %v", got, want)
	}
	list := `{"schemaVersion": 2, "manifests": [{"size": 7, "digest": "sha256:dddddddddddd22"}]}`
	if got := parseManifestLayers([]byte(list)); got != nil {
		t.Errorf("a manifest list has no layers of its own: got %v", got)
	}
	if got := parseManifestLayers([]byte("not json")); got != nil {
		t.Errorf("garbage: got %v, want nil", got)
	}
	if _, ok := sumSizes(map[string]int64{"aaaaaaaaaaaa": 1}, []string{"aaaaaaaaaaaa", "eeeeeeeeeeee"}); ok {
		t.Errorf("sumSizes with an unknown layer reported a total")
	}
}

package sidecar

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

const validApply = `{"apiVersion":"docker-kamal/v1","service":"app","role":"web","version":"v1","image":"app:v1","healthcheck":{"kind":"http"}}`

func TestAPIRejectsBadInput(t *testing.T) {
	big := `{"holder":"` + strings.Repeat("a", contract.MaxBodySize) + `"}`
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"apply empty", "POST", contract.PathApply, ``, 400, ""},
		{"apply not json", "POST", contract.PathApply, `not json`, 400, ""},
		{"apply truncated", "POST", contract.PathApply, `{"service":`, 400, ""},
		{"apply unknown field", "POST", contract.PathApply, strings.Replace(validApply, `"role"`, `"bogus":1,"role"`, 1), 400, "bogus"},
		{"apply wrong api version", "POST", contract.PathApply, strings.Replace(validApply, "docker-kamal/v1", "docker-kamal/v9", 1), 400, "apiVersion"},
		{"apply bad service", "POST", contract.PathApply, strings.Replace(validApply, `"app"`, `"App!"`, 1), 400, "service"},
		{"apply wrong type", "POST", contract.PathApply, strings.Replace(validApply, `"role":"web"`, `"role":7`, 1), 400, "role"},
		{"apply nested wrong type", "POST", contract.PathApply, strings.Replace(validApply, `{"kind":"http"}`, `{"kind":"http","port":"80"}`, 1), 400, "healthcheck.port"},
		{"apply bad duration", "POST", contract.PathApply, strings.Replace(validApply, `"role":"web"`, `"role":"web","deployTimeout":"soon"`, 1), 400, "deployTimeout"},
		{"apply bad nested duration", "POST", contract.PathApply, strings.Replace(validApply, `{"kind":"http"}`, `{"kind":"http","interval":"-1s"}`, 1), 400, "healthcheck.interval"},
		{"apply bad health kind", "POST", contract.PathApply, strings.Replace(validApply, `"http"`, `"smoke"`, 1), 400, "healthcheck.kind"},
		{"apply proxy without routing", "POST", contract.PathApply, strings.Replace(validApply, `"role":"web"`, `"role":"web","proxy":{"hosts":["a.test"]}`, 1), 400, "proxy.routing"},
		{"apply routing without its service", "POST", contract.PathApply, strings.Replace(validApply, `"role":"web"`, `"role":"web","proxy":{"routing":{"service":"app-web","config":{"http":{}}}}`, 1), 400, "proxy.routing.config"},
		{"apply routing bad port", "POST", contract.PathApply, strings.Replace(validApply, `"role":"web"`, `"role":"web","proxy":{"routing":{"service":"app-web","port":"http","config":{"http":{"services":{"app-web":{"loadBalancer":{}}}}}}}`, 1), 400, "proxy.routing.port"},
		{"apply trailing data", "POST", contract.PathApply, validApply + `{}`, 400, ""},
		{"rollback missing version", "POST", contract.PathRollback, `{"service":"app","role":"web"}`, 400, "version"},
		{"rollback bad role", "POST", contract.PathRollback, `{"service":"app","role":"WEB","version":"v1"}`, 400, "role"},
		{"rollback unknown field", "POST", contract.PathRollback, `{"service":"app","role":"web","version":"v1","x":1}`, 400, "x"},
		{"assets bad version", "POST", contract.PathAssetsPrepare, `{"service":"app","role":"web","version":"../v1"}`, 400, "version"},
		{"assets image without path", "POST", contract.PathAssetsPrepare, `{"service":"app","role":"web","version":"v1","image":"app:v1"}`, 400, "image"},
		{"assets relative path", "POST", contract.PathAssetsPrepare, `{"service":"app","role":"web","version":"v1","image":"app:v1","assets":{"path":"public"}}`, 400, "assets.path"},
		{"stop missing service", "POST", contract.PathRoleStop, `{"role":"web"}`, 400, "service"},
		{"start bad destination", "POST", contract.PathRoleStart, `{"service":"app","role":"web","destination":"a b"}`, 400, "destination"},
		{"lock empty holder", "POST", contract.PathLockAcquire, `{"holder":" "}`, 400, "holder"},
		{"lock force not bool", "POST", contract.PathLockAcquire, `{"holder":"a","force":"yes"}`, 400, "force"},
		{"lock too large", "POST", contract.PathLockAcquire, big, 413, ""},
		{"release bad version", "POST", contract.PathLockRelease, `{"holder":"a","version":"../x"}`, 400, "version"},
		{"audit missing action", "POST", contract.PathAudit, `{"who":"a"}`, 400, "action"},
		{"audit details not strings", "POST", contract.PathAudit, `{"who":"a","action":"x","details":{"k":1}}`, 400, "details"},
		{"audit bad limit", "GET", contract.PathAudit + "?limit=-3", ``, 400, "limit"},
		{"traefik no image", "POST", contract.PathTraefikBoot, `{}`, 400, "image"},
		{"traefik bad port", "POST", contract.PathTraefikBoot, `{"image":"traefik:v3","httpPort":70000}`, 400, "httpPort"},
		{"traefik bad acme", "POST", contract.PathTraefikReboot, `{"image":"traefik:v3","acme":{"resolver":"le","email":"nobody"}}`, 400, "acme.email"},
		{"traefik dashed arg", "POST", contract.PathTraefikBoot, `{"image":"traefik:v3","args":{"--log.level":"DEBUG"}}`, 400, "args.--log.level"},
		{"versions missing role", "GET", contract.PathVersions + "?service=app", ``, 400, "role"},
		{"image load bad id", "POST", contract.PathImageLoad + "?expectID=sha256:xyz", `tar`, 400, "expectID"},
		{"wrong method", "GET", contract.PathApply, ``, 405, ""},
		{"no such path", "GET", "/v1/nope", ``, 404, ""},
	}
	s, _ := testServer(t, newFakeHost())
	h := s.APIHandler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			var e contract.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("error body is not JSON: %v: %s", err, rec.Body)
			}
			if e.Field != tt.field {
				t.Errorf("field = %q, want %q (message %q)", e.Field, tt.field, e.Message)
			}
			if e.Message == "" || e.Code == "" {
				t.Errorf("error lacks code or message: %+v", e)
			}
			if tt.field != "" && !strings.Contains(e.Message, tt.field) {
				t.Errorf("message %q does not name field %q", e.Message, tt.field)
			}
		})
	}
}

// FuzzAPIDecode feeds arbitrary bodies to every JSON endpoint: the answer
// is always a JSON response with a 2xx or 4xx status, never a panic or 5xx.
func FuzzAPIDecode(f *testing.F) {
	paths := []string{contract.PathApply, contract.PathRollback, contract.PathRoleStop, contract.PathRoleStart,
		contract.PathLockAcquire, contract.PathLockRelease, contract.PathAudit, contract.PathTraefikBoot}
	f.Add(uint8(0), validApply)
	f.Add(uint8(1), `{"service":"app","role":"web","version":"v1"}`)
	f.Add(uint8(4), `{"holder":"a","message":"m","version":"v1","force":true}`)
	f.Add(uint8(6), `{"who":"a","action":"deploy","details":{"k":"v"}}`)
	f.Add(uint8(7), `{"image":"traefik:v3","acme":{"resolver":"le","email":"a@b"},"args":{"log.level":"INFO"}}`)
	f.Add(uint8(0), `{"apiVersion":"docker-kamal/v1","healthcheck":{"interval":"1s","timeout":5}}`)
	s, _ := testServer(f, newFakeHost())
	h := s.APIHandler()
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		path := paths[int(which)%len(paths)]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d to %q: %s", path, rec.Code, body, rec.Body)
		}
		if rec.Code >= 400 {
			var e contract.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" {
				t.Fatalf("%s: error body not a JSON error (%v): %s", path, err, rec.Body)
			}
		}
	})
}

package spec

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// FuzzLoadConfig feeds arbitrary documents to the loader (no secrets files,
// no commands). Any failure must be a located *Error; any success must build
// valid wire specs and redacted output.
func FuzzLoadConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/kamal-compat/v2/*.yml")
	v1, _ := filepath.Glob("testdata/kamal-compat/v1/*.yml")
	for _, p := range append(append(files, v1...), "testdata/rails/config/deploy.yml") {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("service: a\nimage: b\nservers: [h]\nboot:\n  limit: 25%\n"))
	env := map[string]string{"MYSQL_ROOT_PASSWORD": "x", "PASSWORD": "y", "RAILS_MASTER_KEY": "z", "DB_PASSWORD": "w", "KAMAL_REGISTRY_PASSWORD": "v"}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadBytes(context.Background(), "config/deploy.yml", data, LoadOptions{Env: lookupIn(env), NoSecretsFiles: true, Arch: "amd64"})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("unlocated error %T: %v", err, err)
			}
			return
		}
		out, err := c.Redacted()
		if err != nil {
			t.Fatalf("redacted: %v", err)
		}
		for _, v := range env {
			if bytes.Contains(out, []byte("secret-value-"+v)) {
				t.Fatal("secret in output")
			}
		}
		for _, r := range c.Roles {
			for _, h := range r.Hosts {
				// A config the loader accepts may still hold a value the
				// wire spec refuses; that is a field error, never a panic.
				var fe *contract.FieldError
				if _, err := c.Deploy(r.Name, h, "v1", "img:v1", ""); err != nil && !errors.As(err, &fe) {
					t.Fatalf("deploy: %v", err)
				}
			}
		}
		if n := len(c.AppHosts()); n > 0 {
			if b := c.Boot.BatchSize(n); b < 1 || b > n {
				t.Fatalf("batch size %d for %d hosts", b, n)
			}
		}
	})
}

// FuzzDecodeDeploy checks the wire decoder never panics and that whatever
// it accepts survives an encode/decode round trip.
func FuzzDecodeDeploy(f *testing.F) {
	good := &contract.Deploy{APIVersion: contract.APIVersion, Service: "app", Role: "web", Version: "abc", Image: "app:abc",
		Env: map[string]string{"A": "1"}, SecretEnv: map[string]string{"S": "x"}, Healthcheck: contract.Healthcheck{Kind: contract.HealthHTTP, Path: "/up"},
		Proxy: &contract.Proxy{Hosts: []string{"a.example.com"}, AppPort: 3000}}
	good.ApplyDefaults()
	var buf bytes.Buffer
	if err := good.Encode(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"apiVersion":"docker-kamal/v1","service":"a","role":"b","version":"c","image":"d","healthcheck":{"kind":"running"}}`))
	f.Add([]byte(`{"apiVersion":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := contract.DecodeDeploy(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := d.Encode(&out); err != nil {
			t.Fatalf("encode accepted spec: %v", err)
		}
		if _, err := contract.DecodeDeploy(&out); err != nil {
			t.Fatalf("round trip of an accepted spec fails: %v\n%s", err, out.Bytes())
		}
	})
}

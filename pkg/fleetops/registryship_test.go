package fleetops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

const testRegistryPassword = "hunter2-registry-pw"

func TestShipMode(t *testing.T) {
	reg := &spec.Registry{Server: "registry.example.com"}
	tests := []struct {
		flag    string
		reg     *spec.Registry
		want    string
		wantErr error
	}{
		{"", nil, ShipDirect, nil},
		{"", reg, ShipRegistry, nil},
		{"direct", reg, ShipDirect, nil},
		{"direct", nil, ShipDirect, nil},
		{"registry", reg, ShipRegistry, nil},
		{"registry", nil, "", ErrNoRegistry},
		{"ftp", reg, "", ErrUnknownShipMode},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v", tt.flag, tt.reg != nil), func(t *testing.T) {
			got, err := shipMode(tt.flag, tt.reg)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("shipMode(%q) error = %v, want %v", tt.flag, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("shipMode(%q) = %q, %v; want %q", tt.flag, got, err, tt.want)
			}
		})
	}
}

func TestRegistryLoginArgs(t *testing.T) {
	tests := []struct {
		name string
		reg  *spec.Registry
		want []string
	}{
		{"server", &spec.Registry{Server: "r.example:5000", Username: "bob", Password: testRegistryPassword},
			[]string{"login", "r.example:5000", "--username", "bob", "--password-stdin"}},
		{"docker hub", &spec.Registry{Username: "bob", Password: testRegistryPassword},
			[]string{"login", "--username", "bob", "--password-stdin"}},
		{"no password", &spec.Registry{Server: "r.example", Username: "bob"}, nil},
		{"no username", &spec.Registry{Server: "r.example", Password: testRegistryPassword}, nil},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := registryLoginArgs(tt.reg)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if strings.Contains(strings.Join(got, " "), testRegistryPassword) {
				t.Fatalf("password on the command line: %q", got)
			}
		})
	}
}

func TestPullScript(t *testing.T) {
	reg := &spec.Registry{Server: "r.example:5000", Username: "bob smith", Password: testRegistryPassword}
	got := pullScript(reg, "r.example:5000/app:v1")
	want := "docker login r.example:5000 --username 'bob smith' --password-stdin >/dev/null && docker pull r.example:5000/app:v1"
	if got != want {
		t.Fatalf("pull script\n got %s\nwant %s", got, want)
	}
	if got := pullScript(&spec.Registry{Server: "r.example"}, "r.example/app:v1"); got != "docker pull r.example/app:v1" {
		t.Fatalf("public registry pull script = %s", got)
	}
}

func TestParsePushAndPull(t *testing.T) {
	push := parsePush([]byte(`The push refers to repository [127.0.0.1:5000/app]
5f70bf18a086: Preparing
1a2b3c4d5e6f: Preparing
5f70bf18a086: Layer already exists
1a2b3c4d5e6f: Pushed
v2: digest: sha256:0123abcd size: 741
`))
	if want := (pushReport{layers: 2, pushed: 1, pushedIDs: []string{"1a2b3c4d5e6f"}, digest: "sha256:0123abcd"}); !reflect.DeepEqual(push, want) {
		t.Errorf("parsePush = %+v, want %+v", push, want)
	}
	pull := parsePull([]byte(`v2: Pulling from app
5f70bf18a086: Already exists
1a2b3c4d5e6f: Pulling fs layer
1a2b3c4d5e6f: Verifying Checksum
1a2b3c4d5e6f: Download complete
1a2b3c4d5e6f: Pull complete
Digest: sha256:0123abcd
Status: Downloaded newer image for 127.0.0.1:5000/app:v2
127.0.0.1:5000/app:v2
`))
	if want := (pullReport{layers: 2, pulled: 1, pulledIDs: []string{"1a2b3c4d5e6f"}, digest: "sha256:0123abcd"}); !reflect.DeepEqual(pull, want) {
		t.Errorf("parsePull = %+v, want %+v", pull, want)
	}
	present := parsePull([]byte("v2: Pulling from app\nDigest: sha256:0123abcd\nStatus: Image is up to date for 127.0.0.1:5000/app:v2\n"))
	if !present.upToDate || present.pulled != 0 {
		t.Errorf("parsePull of an up-to-date image = %+v", present)
	}
}

// fakeCall is one recorded local or remote command.
type fakeCall struct {
	where string // "local" or the host
	cmd   string
	stdin string
}

// fakeRegistry records the local docker calls and the hosts' command lines,
// and fails the ones named in fail.
type fakeRegistry struct {
	mu    sync.Mutex
	calls []fakeCall
	fail  map[string]bool // "local login", "local push", "<host> pull"
}

func (f *fakeRegistry) record(where, cmd string, stdin io.Reader) {
	var in string
	if stdin != nil {
		b, _ := io.ReadAll(stdin)
		in = string(b)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fakeCall{where, cmd, in})
}

func (f *fakeRegistry) docker(_ context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	f.record("local", strings.Join(args, " "), stdin)
	for _, a := range args {
		if (a == "login" || a == "push") && f.fail["local "+a] {
			return []byte("Error response from daemon: denied for " + testRegistryPassword), errors.New("exit status 1")
		}
	}
	if slices.Contains(args, "push") {
		return []byte("aaaaaaaaaaaa: Layer already exists\nbbbbbbbbbbbb: Pushed\nv1: digest: sha256:feed size: 1\n"), nil
	}
	return []byte("Login Succeeded\n"), nil
}

type fakeHost struct {
	name string
	f    *fakeRegistry
}

func (h fakeHost) Host() string { return h.name }

func (h fakeHost) Run(_ context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error {
	h.f.record(h.name, cmd, stdin)
	if h.f.fail[h.name+" pull"] {
		fmt.Fprintf(stderr, "Error response from daemon: unauthorized\n")
		return errors.New("exit status 1")
	}
	fmt.Fprint(stdout, "v1: Pulling from app\naaaaaaaaaaaa: Already exists\nbbbbbbbbbbbb: Pull complete\nDigest: sha256:feed\n")
	return nil
}

func newFakeRegistryShipper(t *testing.T, reg *spec.Registry, push bool, fail ...string) (*registryShipper, *fakeRegistry, *bytes.Buffer) {
	t.Helper()
	f := &fakeRegistry{fail: map[string]bool{}}
	for _, k := range fail {
		f.fail[k] = true
	}
	var out bytes.Buffer
	cfg := &spec.Config{Registry: reg}
	s := newSession(Options{DockerFlags: []string{"--context", "prod"}}, cfg, output.New(&out, &out, output.Verbose, []string{testRegistryPassword}), nil)
	rs := &registryShipper{
		s: s, hosts: []string{"10.0.0.1", "10.0.0.2"}, push: push, docker: f.docker,
		each: func(ctx context.Context, hosts []string, fn func(ctx context.Context, h remoteHost) error) error {
			var errs []error
			for _, h := range hosts {
				errs = append(errs, fn(ctx, fakeHost{h, f}))
			}
			return errors.Join(errs...)
		},
		sizes: func(context.Context, string) (map[string]int64, error) {
			if f.fail["manifest"] {
				return nil, errors.New("get manifest: 401 Unauthorized")
			}
			return parseManifestLayers([]byte(testManifest)), nil
		},
		checkArch: func(context.Context, []string, string) error { return nil },
	}
	return rs, f, &out
}

func TestRegistryShipperShip(t *testing.T) {
	reg := &spec.Registry{Server: "r.example:5000", Username: "bob", Password: testRegistryPassword}
	rs, f, out := newFakeRegistryShipper(t, reg, true)
	if err := rs.Ship(context.Background(), "r.example:5000/app:v1"); err != nil {
		t.Fatal(err)
	}
	want := []fakeCall{
		{"local", "--context prod login r.example:5000 --username bob --password-stdin", testRegistryPassword},
		{"local", "--context prod push r.example:5000/app:v1", ""},
		{"10.0.0.1", "docker login r.example:5000 --username bob --password-stdin >/dev/null && docker pull r.example:5000/app:v1", testRegistryPassword},
		{"10.0.0.2", "docker login r.example:5000 --username bob --password-stdin >/dev/null && docker pull r.example:5000/app:v1", testRegistryPassword},
	}
	if !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("calls\n got %q\nwant %q", f.calls, want)
	}
	for _, c := range f.calls {
		if strings.Contains(c.cmd, testRegistryPassword) {
			t.Errorf("password on a command line: %s", c.cmd)
		}
	}
	for _, line := range []string{"push r.example:5000/app:v1: 1 of 2 layers pushed, 2.0 MiB", "[10.0.0.2] pull r.example:5000/app:v1: pulled 1 of 2 layers, 2.0 MiB"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	if got := rs.BytesPulled(); got != 2*2<<20 {
		t.Errorf("BytesPulled = %d, want two hosts of 2 MiB", got)
	}
}

// testManifest is a one-platform image's manifest: layers aaaaaaaaaaaa
// (30 MiB) and bbbbbbbbbbbb (2 MiB).
const testManifest = `{
	"schemaVersion": 2,
	"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
	"config": {"size": 2644, "digest": "sha256:cccccccccccc0000"},
	"layers": [
		{"size": 31457280, "digest": "sha256:aaaaaaaaaaaa0000"},
		{"size": 2097152, "digest": "sha256:bbbbbbbbbbbb0000"}
	]
}`

func TestRegistryShipperUnknownSizes(t *testing.T) {
	reg := &spec.Registry{Server: "r.example", Username: "bob", Password: testRegistryPassword}
	rs, _, out := newFakeRegistryShipper(t, reg, true, "manifest")
	if err := rs.Ship(context.Background(), "r.example/app:v1"); err != nil {
		t.Fatalf("an unreadable manifest must not fail the ship: %v", err)
	}
	if !strings.Contains(out.String(), "pull r.example/app:v1: pulled 1 of 2 layers") || strings.Contains(out.String(), "MiB") {
		t.Errorf("want the layer count without sizes:\n%s", out)
	}
	if rs.BytesPulled() != 0 {
		t.Errorf("BytesPulled = %d with unknown sizes", rs.BytesPulled())
	}
}

func TestRegistryShipperSkipPushAndPublic(t *testing.T) {
	rs, f, _ := newFakeRegistryShipper(t, &spec.Registry{Server: "r.example"}, false)
	if err := rs.Ship(context.Background(), "r.example/app:v1"); err != nil {
		t.Fatal(err)
	}
	want := []fakeCall{
		{"10.0.0.1", "docker pull r.example/app:v1", ""},
		{"10.0.0.2", "docker pull r.example/app:v1", ""},
	}
	if !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("calls\n got %q\nwant %q", f.calls, want)
	}
}

func TestRegistryShipperFailures(t *testing.T) {
	reg := &spec.Registry{Server: "r.example", Username: "bob", Password: testRegistryPassword}
	tests := []struct {
		fail      string
		wantErr   string
		wantCalls int
	}{
		{"local login", "log in to registry r.example", 1},
		{"local push", "push r.example/app:v1", 2},
		{"10.0.0.2 pull", "pull r.example/app:v1", 4},
	}
	for _, tt := range tests {
		t.Run(tt.fail, func(t *testing.T) {
			rs, f, out := newFakeRegistryShipper(t, reg, true, tt.fail)
			err := rs.Ship(context.Background(), "r.example/app:v1")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Ship error = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error()+out.String(), testRegistryPassword) {
				t.Errorf("password in the error or output: %v\n%s", err, out)
			}
			if len(f.calls) != tt.wantCalls {
				t.Errorf("%d calls after the failure, want %d: %q", len(f.calls), tt.wantCalls, f.calls)
			}
		})
	}
}

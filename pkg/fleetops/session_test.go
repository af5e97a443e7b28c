package fleetops

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

func TestAccessoryRunArgs(t *testing.T) {
	a := &spec.Accessory{
		Name: "db", Service: "app-db", Image: "postgres:16", Port: "5432",
		Directories: []spec.Mount{{Local: "data", Remote: "/var/lib/postgresql/data"}},
		Files:       []spec.Mount{{Local: "config/init.sql", Remote: "/docker-entrypoint-initdb.d/init.sql", Options: "ro"}},
		Volumes:     []string{"/backups:/backups"},
		Labels:      map[string]string{"team": "core"},
		Options:     map[string][]string{"memory": {"1g"}, "init": {""}},
	}
	got := accessoryRunArgs(a, "/root/app-db")
	want := []string{"--detach", "--name", "app-db", "--restart", "unless-stopped", "--network", "kamal",
		"--log-opt", "max-size=10m", "--label", "service=app-db", "--label", "kamal.accessory=db",
		"--publish", "5432:5432",
		"--volume", "/root/app-db/docker-entrypoint-initdb.d/init.sql:/docker-entrypoint-initdb.d/init.sql:ro",
		"--volume", "/root/app-db/data:/var/lib/postgresql/data",
		"--volume", "/backups:/backups",
		"--label", "team=core",
		"--init", "--memory", "1g",
		"postgres:16"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("run args\n got %q\nwant %q", got, want)
	}
	a.Port = "127.0.0.1:6379:6379"
	if got := accessoryRunArgs(a, "/root/app-db"); !strings.Contains(strings.Join(got, " "), "--publish 127.0.0.1:6379:6379") {
		t.Fatalf("explicit port mapping changed: %q", got)
	}
}

func TestEnvFileContent(t *testing.T) {
	d := &contract.Deploy{Env: map[string]string{"B": "2", "A": "x y"}, SecretEnv: map[string]string{"PASS": "s3cr3t"}}
	got, err := envFileContent(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "A=x y\nB=2\nPASS=s3cr3t\n"; got != want {
		t.Fatalf("env file %q, want %q", got, want)
	}
	d.SecretEnv["KEY"] = "line1\nline2"
	if _, err := envFileContent(d); !errors.Is(err, ErrMultilineEnv) || !strings.Contains(err.Error(), "KEY") || strings.Contains(err.Error(), "line1") {
		t.Fatalf("multi-line secret: want an error naming the key and not the value, got %v", err)
	}
}

func TestHostPath(t *testing.T) {
	for _, tt := range []struct{ home, p, want string }{
		{"/root/app-db", "data", "/root/app-db/data"},
		{"/root/app-db", "/srv/data", "/srv/data"},
	} {
		if got := hostPath(tt.home, tt.p); got != tt.want {
			t.Errorf("hostPath(%q, %q) = %q, want %q", tt.home, tt.p, got, tt.want)
		}
	}
}

func TestImageRef(t *testing.T) {
	s := &Session{Cfg: &spec.Config{Service: "app", Image: "me/app"}}
	if got := s.imageRef("abc"); got != "me/app:abc" {
		t.Fatalf("got %q", got)
	}
	s.Cfg.Registry = &spec.Registry{Server: "registry.example.com"}
	if got := s.imageRef("abc"); got != "registry.example.com/me/app:abc" {
		t.Fatalf("got %q", got)
	}
}

func TestContainerPort(t *testing.T) {
	for in, want := range map[string]string{"": "", "5432": "5432", "5433:5432": "5432", "127.0.0.1:6380:6379/tcp": "6379"} {
		if got := containerPort(in); got != want {
			t.Errorf("containerPort(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSSHOptions(t *testing.T) {
	cfg := &spec.Config{SSH: spec.SSH{User: "deploy", Port: 2222, Keys: []string{"~/.ssh/deploy"}, Proxy: "bastion", Config: []string{"a.conf", "b.conf"}}}
	o := SSHOptions(cfg)
	if o.User != "deploy" || o.Port != 2222 || o.Proxy != "bastion" || o.ConfigFile != "a.conf" || !reflect.DeepEqual(o.ConfigFiles, []string{"b.conf"}) || !reflect.DeepEqual(o.KeyFiles, []string{"~/.ssh/deploy"}) {
		t.Fatalf("options %+v", o)
	}
	cfg.SSH.Config = []string{}
	if o := SSHOptions(cfg); o.ConfigFile != "none" {
		t.Fatalf("config: false should read no ssh config, got %q", o.ConfigFile)
	}
	cfg.SSH.Config = nil
	if o := SSHOptions(cfg); o.ConfigFile != "" {
		t.Fatalf("unset config should use the default, got %q", o.ConfigFile)
	}
}

// blockingDialer stands in for SSH: each dial says it started, then waits
// until the test lets it finish.
type blockingDialer struct {
	started chan string
	release chan struct{}
}

func (d *blockingDialer) connect(ctx context.Context, host string) (unixDialer, error) {
	d.started <- host
	select {
	case <-d.release:
		return noUnix{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type noUnix struct{}

func (noUnix) DialUnix(context.Context, string) (net.Conn, error) {
	return nil, errors.New("no socket in tests")
}

// TestSidecarDialsHostsConcurrently: the first connection to one host does
// not wait for another host's SSH dial.
func TestSidecarDialsHostsConcurrently(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := &blockingDialer{started: make(chan string, 2), release: make(chan struct{})}
	s := newSession(Options{}, &spec.Config{Service: "app"}, nil, nil)
	s.connect = d.connect
	defer s.Close()
	results := make(chan error, 2)
	for _, h := range []string{"h1", "h2"} {
		go func() {
			_, err := s.sidecar(ctx, h)
			results <- err
		}()
	}
	// Both dials start while neither has finished.
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case h := <-d.started:
			seen[h] = true
		case <-ctx.Done():
			t.Fatalf("only %v started dialling: one dial waits for the other", seen)
		}
	}
	close(d.release)
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	c1, err := s.sidecar(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.sidecar(ctx, "h1")
	if err != nil || c1 != c2 {
		t.Fatalf("a second call made another client (%p, %p, %v)", c1, c2, err)
	}
	select {
	case h := <-d.started:
		t.Fatalf("%s dialled again for a client it has", h)
	default:
	}
}

func TestSidecarDialFailureIsNotKept(t *testing.T) {
	fail := errors.New("ssh: connection refused")
	calls := 0
	s := newSession(Options{}, &spec.Config{Service: "app"}, nil, nil)
	s.connect = func(context.Context, string) (unixDialer, error) {
		calls++
		if calls == 1 {
			return nil, fail
		}
		return noUnix{}, nil
	}
	if _, err := s.sidecar(context.Background(), "h1"); !errors.Is(err, fail) {
		t.Fatalf("first call: %v", err)
	}
	if _, err := s.sidecar(context.Background(), "h1"); err != nil || calls != 2 {
		t.Fatalf("second call: %v after %d dials", err, calls)
	}
}

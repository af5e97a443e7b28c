package fleetops

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

func TestExecReuseCommand(t *testing.T) {
	tests := []struct {
		name string
		o    ExecOptions
		want string
	}{
		{"plain", ExecOptions{Cmd: "bin/rails about"}, "docker exec app-web-v1 bin/rails about"},
		{"interactive", ExecOptions{Interactive: true, Cmd: "bin/rails console"}, "docker exec -i -t app-web-v1 bin/rails console"},
		{"attach", ExecOptions{Attach: true, Cmd: "cat"}, "docker exec -i app-web-v1 cat"},
		{"env quoted", ExecOptions{Env: []string{"A=b c", "X=1"}, Cmd: "env"}, "docker exec -e 'A=b c' -e X=1 app-web-v1 env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := execReuseCommand("app-web-v1", tt.o); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func testDeploy(t *testing.T) *contract.Deploy {
	t.Helper()
	return &contract.Deploy{
		Service: "app", Role: "web", Version: "v1", Image: "reg/app:v1", Network: "kamal",
		Env:       map[string]string{"PORT": "3000"},
		SecretEnv: map[string]string{"DATABASE_URL": "postgres://u:hunter2-secret@db/app"},
		Options:   contract.ContainerOptions{Volumes: []string{"data:/data"}, Memory: "512m"},
	}
}

func TestExecRunScript(t *testing.T) {
	d := testDeploy(t)
	tests := []struct {
		name string
		o    ExecOptions
		want string
	}{
		{"new container", ExecOptions{Cmd: "bin/rails db:migrate"},
			"trap 'rm -f /tmp/kamal-env.X' EXIT; docker run --rm --network kamal --env-file /tmp/kamal-env.X --volume data:/data --memory 512m reg/app:v1 bin/rails db:migrate"},
		{"interactive", ExecOptions{Interactive: true, Cmd: "bin/rails console"},
			"trap 'rm -f /tmp/kamal-env.X' EXIT; docker run --rm -i -t --network kamal --env-file /tmp/kamal-env.X --volume data:/data --memory 512m reg/app:v1 bin/rails console"},
		{"detach with env", ExecOptions{Detach: true, Env: []string{"K=v"}, Cmd: "sleep 9"},
			"trap 'rm -f /tmp/kamal-env.X' EXIT; docker run --detach --name app-web-exec-1 --label kamal.exec=app --network kamal --env-file /tmp/kamal-env.X -e K=v --volume data:/data --memory 512m reg/app:v1 sleep 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := execRunScript(d, "/tmp/kamal-env.X", "app-web-exec-1", tt.o)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if strings.Contains(got, "hunter2") || strings.Contains(got, "DATABASE_URL") {
				t.Errorf("a secret is on the command line: %s", got)
			}
		})
	}
}

func TestExecOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		o       ExecOptions
		wantErr error
	}{
		{"ok", ExecOptions{Cmd: "ls"}, nil},
		{"no command", ExecOptions{Cmd: "  "}, ErrNoCommand},
		{"detach interactive", ExecOptions{Cmd: "ls", Detach: true, Interactive: true}, ErrDetachConflict},
		{"detach reuse", ExecOptions{Cmd: "ls", Detach: true, Reuse: true}, ErrDetachConflict},
		{"bad env", ExecOptions{Cmd: "ls", Env: []string{"NOVALUE"}}, ErrBadEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.o.validate(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestLogsCommand(t *testing.T) {
	tests := []struct {
		name string
		o    LogsOptions
		want string
	}{
		{"defaults", LogsOptions{}, "docker logs --timestamps --tail 100 c1 2>&1"},
		{"follow", LogsOptions{Follow: true}, "docker logs --timestamps --tail 10 --follow c1 2>&1"},
		{"lines since no timestamps", LogsOptions{Lines: 5, Since: "10m", SkipTimestamps: true}, "docker logs --tail 5 --since 10m c1 2>&1"},
		{"since only: no tail", LogsOptions{Since: "2026-01-02T13:23:37Z"}, "docker logs --timestamps --since 2026-01-02T13:23:37Z c1 2>&1"},
		{"grep quoted", LogsOptions{Grep: "it's GET /up", GrepOptions: "-i"},
			`docker logs --timestamps c1 2>&1 | grep --line-buffered -i -e 'it'\''s GET /up'; test $? -le 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logsCommand("c1", tt.o); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

const psOut = "id3\tapp-web-staging-v3\tweb\tstaging\tv3\trunning\treg/app:v3\tUp 1 minute\n" +
	"id2\tapp-web-v2\tweb\t\tv2\trunning\treg/app:v2\tUp 2 minutes\n" +
	"id1\tapp-web-v1\tweb\t\tv1\texited\treg/app:v1\tExited (0) 1 hour ago\n" +
	"id0\tapp-job-v1\tjob\t\tv1\trunning\treg/app:v1\tUp 1 hour\n" +
	"garbage line\n"

func TestParsePSKeepsDestination(t *testing.T) {
	tests := []struct {
		dest, role string
		want       []string
	}{
		{"", "", []string{"app-web-v2", "app-web-v1", "app-job-v1"}},
		{"", "web", []string{"app-web-v2", "app-web-v1"}},
		{"staging", "", []string{"app-web-staging-v3"}},
		{"production", "", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range parsePS(psOut, tt.dest, tt.role) {
			got = append(got, c.Name)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("parsePS(dest %q, role %q) = %v, want %v", tt.dest, tt.role, got, tt.want)
		}
	}
}

func TestCurrentAndStale(t *testing.T) {
	cs := []container{
		{Name: "v3", Version: "v3", State: "running"},
		{Name: "v2", Version: "v2", State: "running"},
		{Name: "v1", Version: "v1", State: "exited"},
	}
	if c, _ := current(cs); c.Name != "v3" {
		t.Errorf("current = %s, want the newest running v3", c.Name)
	}
	if c, _ := current(cs[2:]); c.Name != "v1" {
		t.Errorf("current of stopped only = %s, want v1", c.Name)
	}
	names := func(cs []container) string {
		var n []string
		for _, c := range cs {
			n = append(n, c.Name)
		}
		return strings.Join(n, ",")
	}
	if got := names(staleContainers(cs, "v2")); got != "v3" {
		t.Errorf("stale with live v2 = %s, want v3", got)
	}
	if got := names(staleContainers(cs, "")); got != "v2" {
		t.Errorf("stale without live = %s, want v2", got)
	}
}

func TestRemoveAppScript(t *testing.T) {
	got := removeAppScript([]string{"app-web-v1", "app-web-v2"}, "reg/app")
	want := `docker rm -f app-web-v1 app-web-v2 >/dev/null; ids=$(docker image ls -q reg/app); [ -z "$ids" ] || docker image rm $ids >/dev/null 2>&1; true`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := &prefixWriter{mu: &mu, w: &out, prefix: "h1 | "}
	for _, chunk := range []string{"hel", "lo\nwor", "ld\n", "tail"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "h1 | hello\nh1 | world\nh1 | tail\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestFilterHosts(t *testing.T) {
	hosts := []string{"10.0.0.1", "10.0.0.2", "db1"}
	if got := filterHosts(hosts, []string{"10.0.0.*"}); strings.Join(got, ",") != "10.0.0.1,10.0.0.2" {
		t.Errorf("filterHosts = %v", got)
	}
	if got := filterHosts(hosts, nil); len(got) != 3 {
		t.Errorf("no pattern keeps all, got %v", got)
	}
	if got := filterHosts(hosts, []string{"nope"}); len(got) != 0 {
		t.Errorf("no match keeps none, got %v", got)
	}
}

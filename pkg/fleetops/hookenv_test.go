package fleetops

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/hooks"
	"github.com/dockerkamal/docker-kamal/pkg/output"
	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// hookApp is an app directory whose hooks append their name and chosen
// variables to a log, and whose secrets file holds a token no config key
// refers to (as Kamal's sample pre-deploy hook uses GITHUB_TOKEN).
func hookApp(t *testing.T, failing string) (*Session, string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "hooks.log")
	write := func(p, body string, mode os.FileMode) {
		t.Helper()
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("config/deploy.yml", "service: app\nimage: app\nservers:\n  web: [h1, h2]\n  job: [h3]\n", 0o644)
	write(".kamal/secrets", "GITHUB_TOKEN=tok-123\n", 0o600)
	for _, name := range []string{"pre-connect", "docker-setup", "pre-proxy-reboot", "post-proxy-reboot"} {
		body := "#!/bin/sh\necho \"$(basename $0) cmd=$KAMAL_COMMAND/$KAMAL_SUBCOMMAND hosts=$KAMAL_HOSTS roles=$KAMAL_ROLES token=${GITHUB_TOKEN:-none} dir=$(pwd)\" >> " + log + "\n"
		if name == failing {
			body += "exit 3\n"
		}
		write(".kamal/hooks/"+name, body, 0o755)
	}
	cfg, err := spec.Load(context.Background(), spec.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o := Options{ConfigFile: filepath.Join(dir, "config/deploy.yml"), Command: "proxy", Subcommand: "reboot",
		Filter: spec.Filter{Roles: []string{"web"}}, Version: "v1", Stdout: &out, Stderr: &out}
	return newSession(o, cfg, output.New(&out, &out, output.Normal, nil), nil), log
}

func readLog(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// pre-connect runs once per command, from the app directory, with the
// command's KAMAL_COMMAND/SUBCOMMAND, the selected hosts, the --roles
// roles and the secrets; docker-setup and the proxy-reboot hooks get no
// secrets, as in Kamal.
func TestPreConnectOnceWithSecrets(t *testing.T) {
	s, log := hookApp(t, "")
	for i := 0; i < 3; i++ {
		if err := s.preConnect(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.aroundProxyReboot(context.Background(), []string{"h1"}, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(log)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	want := []string{
		"pre-connect cmd=proxy/reboot hosts=h1,h2 roles=web token=tok-123 dir=" + dir,
		"pre-proxy-reboot cmd=proxy/reboot hosts=h1 roles=web token=none dir=" + dir,
		"post-proxy-reboot cmd=proxy/reboot hosts=h1 roles=web token=none dir=" + dir,
	}
	if got := readLog(t, log); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("hooks ran\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A failing pre-* hook aborts with an error naming the hook: a failed
// pre-proxy-reboot reboots nothing and runs no post-proxy-reboot.
func TestFailingPreHookAborts(t *testing.T) {
	s, log := hookApp(t, "pre-proxy-reboot")
	rebooted := false
	err := s.aroundProxyReboot(context.Background(), []string{"h1"}, func() error { rebooted = true; return nil })
	var he *hooks.HookError
	if !errors.As(err, &he) || he.Name != "pre-proxy-reboot" || he.Code != 3 {
		t.Fatalf("got %v, want the HookError of pre-proxy-reboot", err)
	}
	if rebooted || len(readLog(t, log)) != 2 { // pre-connect, then the failed pre-proxy-reboot
		t.Errorf("rebooted=%v after the failed hook; log %q", rebooted, readLog(t, log))
	}
	s, _ = hookApp(t, "pre-connect")
	if err := s.preConnect(context.Background()); !errors.As(err, &he) || he.Name != "pre-connect" {
		t.Fatalf("got %v, want the HookError of pre-connect", err)
	}
}

// hooks_output: quiet hides a hook's output (per hook or for all), verbose
// or unset shows it; -q and -v override the config, as in Kamal.
func TestHooksOutput(t *testing.T) {
	cfg, err := spec.LoadBytes(context.Background(), "config/deploy.yml",
		[]byte("service: app\nimage: app\nservers: [1.2.3.4]\nhooks_output:\n  \"*\": quiet\n  pre-deploy: verbose\n"), spec.LoadOptions{NoSecretsFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	s := &Session{Cfg: cfg}
	if !s.hookQuiet("pre-build") || s.hookQuiet("pre-deploy") {
		t.Errorf("hooks_output: want pre-build quiet (*), pre-deploy verbose")
	}
	s.Opts.Verbose = true
	if s.hookQuiet("pre-build") {
		t.Errorf("-v must show every hook's output")
	}
	s.Opts.Verbose, s.Opts.Quiet = false, true
	if !s.hookQuiet("pre-deploy") {
		t.Errorf("-q must hide every hook's output")
	}
	s = &Session{Cfg: &spec.Config{}}
	if s.hookQuiet("pre-build") {
		t.Errorf("no hooks_output: want the output shown")
	}

	var out bytes.Buffer
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pre-build"), []byte("#!/bin/sh\necho from-hook\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &hooks.Runner{Dir: dir, Stdout: &out, Stderr: &out, Quiet: func(string) bool { return true }}
	if _, err := r.Run(context.Background(), "pre-build", hooks.Env{}); err != nil || out.Len() != 0 {
		t.Errorf("quiet hook printed %q (err %v)", out.String(), err)
	}
	r.Quiet = nil
	if _, err := r.Run(context.Background(), "pre-build", hooks.Env{}); err != nil || !strings.Contains(out.String(), "from-hook") {
		t.Errorf("shown hook printed %q (err %v)", out.String(), err)
	}
}

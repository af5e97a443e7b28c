package transport

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitHostSpec(t *testing.T) {
	tests := []struct {
		in         string
		user, host string
		port       int
		err        bool
	}{
		{"10.0.0.1", "", "10.0.0.1", 0, false},
		{"app@10.0.0.1", "app", "10.0.0.1", 0, false},
		{"10.0.0.1:2222", "", "10.0.0.1", 2222, false},
		{"u@h.example:22", "u", "h.example", 22, false},
		{"[::1]:2200", "", "::1", 2200, false},
		{"[fe80::1]", "", "fe80::1", 0, false},
		{"fe80::1", "", "fe80::1", 0, false},
		{"h:0", "", "", 0, true},
		{"h:x", "", "", 0, true},
		{"u@", "", "", 0, true},
	}
	for _, tt := range tests {
		u, h, p, err := splitHostSpec(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v, want err %v", tt.in, err, tt.err)
			continue
		}
		if !tt.err && (u != tt.user || h != tt.host || p != tt.port) {
			t.Errorf("%q: got %q %q %d, want %q %q %d", tt.in, u, h, p, tt.user, tt.host, tt.port)
		}
	}
}

func TestResolve(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "/agent.sock")
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := `
Host web1
  HostName 10.0.0.1
  Port 2222
  User cfguser
  IdentityFile ~/.ssh/%h.key
  UserKnownHostsFile ~/kh1 ~/kh2
  ProxyJump jumper@bastion:2200,inner

Host bastion
  HostName 192.0.2.10
  IdentityFile ~/.ssh/bastion

Host strict
  StrictHostKeyChecking accept-new
  IdentitiesOnly yes
  IdentityAgent ~/agent

Host *
  ServerAliveInterval 10
`
	cfgPath := filepath.Join(home, "cfg")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ssh := filepath.Join(home, ".ssh")
	tests := []struct {
		name string
		host string
		opts Options
		want target
		hops []string // "user@host:port" of jumps
	}{
		{
			name: "defaults",
			host: "plain",
			want: target{Alias: "plain", HostName: "plain", Port: 22, User: "root",
				KeyFiles: []string{filepath.Join(ssh, "id_rsa")}, KnownHosts: []string{filepath.Join(ssh, "known_hosts")},
				AgentSocket: "/agent.sock"},
		},
		{
			name: "config applies",
			host: "web1",
			want: target{Alias: "web1", HostName: "10.0.0.1", Port: 2222, User: "cfguser",
				KeyFiles: []string{filepath.Join(ssh, "10.0.0.1.key")}, KnownHosts: []string{filepath.Join(home, "kh1"), filepath.Join(home, "kh2")},
				AgentSocket: "/agent.sock", explicitKeyset: true},
			hops: []string{"jumper@192.0.2.10:2200", "root@inner:22"},
		},
		{
			name: "options win over config",
			host: "web1",
			opts: Options{User: "app", Port: 22, KeyFiles: []string{"~/k"}, Proxy: "none", KnownHostsFiles: []string{"/kh"}, AgentSocket: "none"},
			want: target{Alias: "web1", HostName: "10.0.0.1", Port: 22, User: "app",
				KeyFiles: []string{filepath.Join(home, "k"), filepath.Join(ssh, "10.0.0.1.key")}, KnownHosts: []string{"/kh"},
				AgentSocket: "none", explicitKeyset: true},
		},
		{
			name: "host spec wins over options",
			host: "me@web1:2022",
			opts: Options{User: "app", Port: 22, Proxy: "none"},
			want: target{Alias: "web1", HostName: "10.0.0.1", Port: 2022, User: "me",
				KeyFiles: []string{filepath.Join(ssh, "10.0.0.1.key")}, KnownHosts: []string{filepath.Join(home, "kh1"), filepath.Join(home, "kh2")},
				AgentSocket: "/agent.sock", explicitKeyset: true},
		},
		{
			name: "kamal ssh.proxy",
			host: "10.0.0.5",
			opts: Options{User: "app", Proxy: "ops@bastion"},
			want: target{Alias: "10.0.0.5", HostName: "10.0.0.5", Port: 22, User: "app",
				KeyFiles: []string{filepath.Join(ssh, "id_rsa")}, KnownHosts: []string{filepath.Join(ssh, "known_hosts")},
				AgentSocket: "/agent.sock"},
			hops: []string{"ops@192.0.2.10:22"},
		},
		{
			name: "strict accept-new, identities only, agent from config",
			host: "strict",
			want: target{Alias: "strict", HostName: "strict", Port: 22, User: "root",
				KeyFiles: []string{filepath.Join(ssh, "id_rsa")}, KnownHosts: []string{filepath.Join(ssh, "known_hosts")},
				AgentSocket: filepath.Join(home, "agent"), AcceptNew: true, KeysOnly: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolve(tt.host, tt.opts, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var hops []string
			for _, j := range got.Jumps {
				hops = append(hops, j.User+"@"+j.addr())
			}
			if strings.Join(hops, ",") != strings.Join(tt.hops, ",") {
				t.Errorf("jumps %v, want %v", hops, tt.hops)
			}
			got.Jumps = nil
			if _, err := os.Stat(GlobalKnownHosts); err == nil && len(tt.opts.KnownHostsFiles) == 0 {
				tt.want.KnownHosts = append(tt.want.KnownHosts, GlobalKnownHosts)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("resolve(%q)\n got %+v\nwant %+v", tt.host, *got, tt.want)
			}
		})
	}
}

func loadConfigText(tb testing.TB, text string) (sshConfig, error) {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "config")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return loadConfig(p)
}

func TestConfigFiles(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	os.WriteFile(a, []byte("Host web\n  User fromA\n  IdentityFile /ka\n"), 0o600)
	os.WriteFile(b, []byte("Host web\n  User fromB\n  Port 2200\n  IdentityFile /kb\n"), 0o600)
	cfg, err := loadConfigs(Options{ConfigFile: "none", ConfigFiles: []string{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := resolve("web", Options{AgentSocket: "none"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "fromA" || got.Port != 2200 || strings.Join(got.KeyFiles, ",") != "/ka,/kb" {
		t.Errorf("got user %s port %d keys %v", got.User, got.Port, got.KeyFiles)
	}
	if _, err := loadConfigs(Options{ConfigFile: "none", ConfigFiles: []string{filepath.Join(dir, "missing")}}); err == nil {
		t.Error("missing listed config: no error")
	}
}

func TestResolveConfigCases(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "/env-agent.sock")
	tests := []struct {
		name    string
		config  string
		opts    Options
		wantErr bool
		check   func(*target) bool
	}{
		{name: "bad port", config: "Host h\n  Port 70000\n", wantErr: true},
		{name: "port not a number", config: "Host h\n  Port ssh\n", wantErr: true},
		{name: "too many jump hosts", config: "Host h\n  ProxyJump a,b,c,d,e,f,g,h,i\n", wantErr: true},
		{name: "empty jump host", config: "Host h\n  ProxyJump a,,b\n", wantErr: true},
		{name: "bad jump host", config: "Host h\n  ProxyJump a:0\n", wantErr: true},
		{
			name:   "jump hosts do not inherit ssh.user and ssh.port",
			config: "Host h\n  ProxyJump ssh://j1, u@j2:2200\n",
			opts:   Options{User: "app", Port: 2022},
			check: func(t *target) bool {
				return t.User == "app" && t.Port == 2022 && len(t.Jumps) == 2 &&
					t.Jumps[0].User == DefaultUser && t.Jumps[0].addr() == "j1:22" &&
					t.Jumps[1].User == "u" && t.Jumps[1].addr() == "j2:2200"
			},
		},
		{
			name:   "ProxyJump none leaves the ProxyCommand",
			config: "Host h\n  ProxyJump none\n  ProxyCommand nc %h %p\n",
			check:  func(t *target) bool { return len(t.Jumps) == 0 && t.ProxyCommand == "nc %h %p" },
		},
		{
			name:   "ProxyCommand none",
			config: "Host h\n  ProxyCommand none\n",
			check:  func(t *target) bool { return t.ProxyCommand == "" },
		},
		{
			name:   "ssh.proxy_command wins over ProxyJump",
			config: "Host h\n  ProxyJump j\n",
			opts:   Options{ProxyCommand: "cmd"},
			check:  func(t *target) bool { return len(t.Jumps) == 0 && t.ProxyCommand == "cmd" },
		},
		{
			name:   "IdentityFile none is no key",
			config: "Host h\n  IdentityFile none\n",
			check:  func(t *target) bool { return len(t.KeyFiles) == 0 && !t.explicitKeyset },
		},
		{
			name:   "IdentityAgent SSH_AUTH_SOCK is the environment's",
			config: "Host h\n  IdentityAgent SSH_AUTH_SOCK\n",
			check:  func(t *target) bool { return t.AgentSocket == "/env-agent.sock" },
		},
		{
			name:   "ssh.agent none",
			config: "Host h\n  IdentityAgent /cfg.sock\n",
			opts:   Options{AgentSocket: "none"},
			check:  func(t *target) bool { return t.AgentSocket == "none" },
		},
		{
			name:   "StrictHostKeyChecking no accepts new keys",
			config: "Host h\n  StrictHostKeyChecking no\n  HostKeyAlias alias\n",
			check:  func(t *target) bool { return t.AcceptNew && t.knownHostsAddr() == "alias:22" },
		},
		{
			name:   "tokens in HostName and IdentityFile",
			config: "Host h\n  HostName %h.example\n  User u\n  IdentityFile /keys/%r@%h:%p\n",
			check: func(t *target) bool {
				return t.HostName == "h.example" && len(t.KeyFiles) == 1 && t.KeyFiles[0] == "/keys/u@h.example:22"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfigText(t, tt.config)
			if err != nil {
				t.Fatal(err)
			}
			got, err := resolve("h", tt.opts, cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("resolve: %v, want error %v", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(got) {
				t.Errorf("resolve gave %+v", *got)
			}
		})
	}
}

package doctor

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRemote answers by command kind, per host, and records commands.
type fakeRemote struct {
	mu      sync.Mutex
	answers map[string]map[string]string // host -> kind -> stdout
	fail    map[string]error             // host -> error for every command
	cmds    []string
}

func cmdKind(cmd string) string {
	for _, k := range []string{"date", "docker version", "df", "command -v curl", "command -v openssl"} {
		if strings.HasPrefix(cmd, k) {
			return k
		}
	}
	return cmd
}

func (f *fakeRemote) Output(_ context.Context, host, cmd string) ([]byte, error) {
	f.mu.Lock()
	f.cmds = append(f.cmds, host+": "+cmd)
	f.mu.Unlock()
	if err := f.fail[host]; err != nil {
		return nil, err
	}
	a, ok := f.answers[host][cmdKind(cmd)]
	if !ok {
		return nil, errors.New("exit status 1")
	}
	return []byte(a + "\n"), nil
}

var liveNow = time.Unix(1_800_000_000, 0)

func healthyHost() map[string]string {
	return map[string]string{
		"date":            "1800000000.250000000",
		"docker version":  "20.10.24+dfsg1",
		"df":              "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100000000 20000000 80000000 20% /",
		"command -v curl": "200",
		// The certificate the proxy serves for shop.example.com.
		"command -v openssl": testCert(nil, "shop.example.com", liveNow.Add(60*24*time.Hour)),
	}
}

func TestLive(t *testing.T) {
	tests := []struct {
		name   string
		web    func(map[string]string)
		db     func(map[string]string)
		dbFail error
	}{
		{name: "healthy"},
		{name: "sick", web: func(a map[string]string) {
			a["date"] = "1800000095.000000000"
			a["docker version"] = "19.03.15"
			a["df"] = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 10000000 9500000 500000 95% /var/lib/docker"
			a["command -v curl"] = "502"
			a["command -v openssl"] = testCert(nil, "shop.example.com", liveNow.Add(5*24*time.Hour))
		}, db: func(a map[string]string) {
			a["date"] = "1800000004"
			a["df"] = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 10000000 5000000 4000000 56% /"
		}},
		{name: "unreachable", dbFail: errors.New("dial tcp 192.0.2.1:22: i/o timeout")},
		{name: "nodocker", db: func(a map[string]string) { delete(a, "docker version") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			web, db := healthyHost(), healthyHost()
			if tt.web != nil {
				tt.web(web)
			}
			if tt.db != nil {
				tt.db(db)
			}
			r := &fakeRemote{
				answers: map[string]map[string]string{"web1.example.com": web, "db1.example.com": db},
				fail:    map[string]error{"db1.example.com": tt.dbFail},
			}
			p, err := Load(context.Background(), Options{Root: newApp(t, "testdata/app"), Env: testEnv, NoGit: true})
			if err != nil {
				t.Fatal(err)
			}
			rep := NewReport(Live(context.Background(), p, r, func() time.Time { return liveNow }), p.Secrets())
			text, js := render(t, rep)
			golden(t, filepath.Join("testdata", "live", tt.name+".golden"), text)
			golden(t, filepath.Join("testdata", "live", tt.name+".json.golden"), js)
			if tt.name == "healthy" && len(rep.Findings) != 0 {
				t.Errorf("healthy hosts have findings:\n%s", text)
			}
			// The health check goes through the proxy with the TLS host name.
			found := false
			for _, c := range r.cmds {
				if strings.HasPrefix(c, "web1.example.com: command -v curl") {
					found = strings.Contains(c, "--resolve 'shop.example.com:443:127.0.0.1'") && strings.Contains(c, "'https://shop.example.com/up'")
				}
			}
			if !found {
				t.Errorf("no health request through the proxy in %q", r.cmds)
			}
		})
	}
}

func TestHealthCommand(t *testing.T) {
	got := healthCommand("it's.example.com", "/up", false, [2]int{80, 443})
	if !strings.Contains(got, `-H 'Host: it'\''s.example.com'`) || !strings.Contains(got, "'http://127.0.0.1/up'") {
		t.Errorf("healthCommand = %s", got)
	}
	// proxy.run's ports are where the proxy answers.
	if got := healthCommand("a.example.com", "/up", true, [2]int{8088, 8448}); !strings.Contains(got, "'https://a.example.com:8448/up'") ||
		!strings.Contains(got, "'a.example.com:8448:127.0.0.1'") {
		t.Errorf("healthCommand with https_port = %s", got)
	}
}

func TestClockFinding(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		stamp string
		rtt   time.Duration
		want  Severity // "" for none
	}{
		{"1000.100000000", 0, ""},
		{"1003", 0, ""},                         // 3s, but 1s resolution: within 2s+1s
		{"1004", 0, Warn},                       // beyond
		{"1002.900000000", 2 * time.Second, ""}, // rtt covers it
		{"900.000000000", 0, Error},
		{"garbage", 0, Warn},
	}
	for _, tt := range tests {
		f := clockFinding(tt.stamp, t0, t0.Add(tt.rtt))
		var got Severity
		if f != nil {
			got = f.Severity
		}
		if got != tt.want {
			t.Errorf("clockFinding(%q, rtt %v) = %q, want %q", tt.stamp, tt.rtt, got, tt.want)
		}
	}
}

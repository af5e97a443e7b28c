package docker

import (
	"testing"
	"time"
)

func TestParsePort(t *testing.T) {
	tests := []struct {
		in       string
		port     string
		hostIP   string
		hostPort string
		wantErr  bool
	}{
		{in: "80:80", port: "80/tcp", hostPort: "80"},
		{in: "127.0.0.1:9321:9321", port: "9321/tcp", hostIP: "127.0.0.1", hostPort: "9321"},
		{in: "443:8443/tcp", port: "8443/tcp", hostPort: "443"},
		{in: "53:53/udp", port: "53/udp", hostPort: "53"},
		{in: "8080", port: "8080/tcp"},
		{in: "[::1]:80:80", port: "80/tcp", hostIP: "::1", hostPort: "80"},
		{in: "x:80", wantErr: true},
		{in: "80:x", wantErr: true},
		{in: "bad.ip:80:80", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, b, err := parsePort(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if p.String() != tt.port || b.HostPort != tt.hostPort {
				t.Errorf("got %s host port %q, want %s %q", p, b.HostPort, tt.port, tt.hostPort)
			}
			ip := ""
			if b.HostIP.IsValid() {
				ip = b.HostIP.String()
			}
			if ip != tt.hostIP {
				t.Errorf("host ip %q, want %q", ip, tt.hostIP)
			}
		})
	}
}

func TestParseRestart(t *testing.T) {
	tests := []struct {
		in      string
		name    string
		count   int
		wantErr bool
	}{
		{in: "", name: ""},
		{in: "unless-stopped", name: "unless-stopped"},
		{in: "on-failure:3", name: "on-failure", count: 3},
		{in: "always:3", wantErr: true},
		{in: "sometimes", wantErr: true},
		{in: "on-failure:x", wantErr: true},
	}
	for _, tt := range tests {
		rp, err := parseRestart(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("%q: err = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if err == nil && (string(rp.Name) != tt.name || rp.MaximumRetryCount != tt.count) {
			t.Errorf("%q: got %+v", tt.in, rp)
		}
	}
}

func TestSpecToAPI(t *testing.T) {
	s := ContainerSpec{
		Name: "app-web-v1", Image: "app:v1", Env: []string{"A=1"},
		Labels: map[string]string{"kamal.service": "app"}, Network: "kamal", Aliases: []string{"app-web"},
		Memory: "256m", CPUs: "1.5", Volumes: []string{"/data:/data:ro"}, Ports: []string{"127.0.0.1:8080:80"},
		Restart: "unless-stopped", LogDriver: "json-file", LogOpts: map[string]string{"max-size": "10m"},
		StopTimeout: 1500 * time.Millisecond,
	}
	cfg, hc, nc, err := s.toAPI()
	if err != nil {
		t.Fatal(err)
	}
	if hc.Memory != 256<<20 || hc.NanoCPUs != 1_500_000_000 {
		t.Errorf("memory %d cpus %d", hc.Memory, hc.NanoCPUs)
	}
	if *cfg.StopTimeout != 2 {
		t.Errorf("stop timeout %d, want 2 (rounded up)", *cfg.StopTimeout)
	}
	if string(hc.NetworkMode) != "kamal" || nc.EndpointsConfig["kamal"].Aliases[0] != "app-web" {
		t.Errorf("network %q %+v", hc.NetworkMode, nc.EndpointsConfig)
	}
	if len(hc.PortBindings) != 1 || len(cfg.ExposedPorts) != 1 || hc.Binds[0] != "/data:/data:ro" {
		t.Errorf("ports %v binds %v", hc.PortBindings, hc.Binds)
	}
	if hc.RestartPolicy.Name != "unless-stopped" || hc.LogConfig.Config["max-size"] != "10m" {
		t.Errorf("restart %v log %v", hc.RestartPolicy, hc.LogConfig)
	}
	for _, bad := range []ContainerSpec{{Memory: "lots"}, {CPUs: "-1"}, {Restart: "never"}, {Ports: []string{"a:b"}}} {
		if _, _, _, err := bad.toAPI(); err == nil {
			t.Errorf("%+v: want error", bad)
		}
	}
}

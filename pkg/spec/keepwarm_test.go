package spec

import (
	"testing"
	"time"
)

func TestKeepWarmOnTheWire(t *testing.T) {
	const servers = "servers:\n  web: [1.1.1.1]\n  job:\n    hosts: [1.1.1.2]\n    cmd: work\nproxy:\n  app_port: 3000\n"
	tests := []struct {
		name, yaml string
		web        time.Duration
	}{
		{"default", "", DefaultKeepWarm},
		{"set", "sidecar:\n  keep_warm: 30s\n", 30 * time.Second},
		{"off", "sidecar:\n  keep_warm: 0\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadYAML(t, okHead+servers+tt.yaml)
			if err != nil {
				t.Fatal(err)
			}
			web, err := c.Deploy("web", "1.1.1.1", "v1", "app:v1", "")
			if err != nil {
				t.Fatal(err)
			}
			if web.KeepWarm.D() != tt.web {
				t.Errorf("web keepWarm %v, want %v", web.KeepWarm.D(), tt.web)
			}
			job, err := c.Deploy("job", "1.1.1.2", "v1", "app:v1", "")
			if err != nil {
				t.Fatal(err)
			}
			if job.KeepWarm != 0 {
				t.Errorf("job keepWarm %v: a role without a proxy never stays warm", job.KeepWarm.D())
			}
		})
	}
	_, err := loadYAML(t, okHead+servers+"sidecar:\n  keep_warm: -1s\n")
	if l, ok := locate(err); !ok || l.Key != "sidecar.keep_warm" || l.Line == 0 {
		t.Errorf("negative keep_warm: %v (%+v)", err, l)
	}
}

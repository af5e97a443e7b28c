package spec

// This project's extensions to Kamal's config: migrations and the sidecar.

import (
	"strings"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Migrations is the migrations extension.
type Migrations struct {
	Cmd     string            `yaml:"cmd"`
	Timeout contract.Duration `yaml:"timeout"`
}

// Sidecar is the sidecar extension.
type Sidecar struct {
	// Monitor is the address of the read-only monitoring listener.
	Monitor string `yaml:"monitor"`
	// KeepWarm is how long the container a deploy or rollback replaces
	// keeps running out of rotation (roles with a proxy), so a rollback
	// inside it is a route switch; 0 stops it at once.
	KeepWarm contract.Duration `yaml:"keep_warm"`
}

func (b *builder) extensions() error {
	r := &b.raw
	if m := r.Migrations; m != nil {
		if strings.TrimSpace(m.Cmd) == "" {
			return b.errKey("migrations.cmd", "missing (required when migrations is set)")
		}
		b.c.Migrations = &Migrations{Cmd: m.Cmd, Timeout: m.Timeout}
		if m.Timeout == 0 {
			b.c.Migrations.Timeout = contract.Duration(DefaultMigrationTimeout)
		}
	}
	b.c.Sidecar = Sidecar{Monitor: DefaultSidecarMonitor, KeepWarm: contract.Duration(DefaultKeepWarm)}
	if s := r.Sidecar; s != nil && s.Monitor != "" {
		b.c.Sidecar.Monitor = s.Monitor
	}
	if s := r.Sidecar; s != nil && s.KeepWarm != nil {
		if *s.KeepWarm < 0 {
			return b.errKey("sidecar.keep_warm", "must not be negative (0 stops the replaced container at once)")
		}
		b.c.Sidecar.KeepWarm = *s.KeepWarm
	}
	return nil
}

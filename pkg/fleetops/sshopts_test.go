package fleetops

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

// ssh.key_data (resolved from secrets), ssh.forward_agent (default true,
// as sshkit's) and ssh.log_level reach the transport.
func TestSSHOptionsKeyDataForwardAgentLogLevel(t *testing.T) {
	const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nstand-in\n-----END OPENSSH PRIVATE KEY-----\n"
	load := func(ssh string) *spec.Config {
		t.Helper()
		cfg, err := spec.LoadBytes(context.Background(), "config/deploy.yml",
			[]byte("service: app\nimage: app\nservers: [1.2.3.4]\nssh:\n"+ssh),
			spec.LoadOptions{NoSecretsFiles: true, Env: func(k string) (string, bool) {
				if k == "SSH_PRIVATE_KEY" {
					return key, true
				}
				return "", false
			}})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	o := SSHOptions(load("  key_data: [SSH_PRIVATE_KEY]\n  log_level: debug\n"))
	if !reflect.DeepEqual(o.KeyData, [][]byte{[]byte(key)}) {
		t.Errorf("key_data not passed to the transport: %q", o.KeyData)
	}
	if !o.ForwardAgent {
		t.Errorf("forward_agent unset: want forwarding on, as Kamal (sshkit) defaults")
	}
	if o.Logger == nil || !o.Logger.Enabled(context.Background(), -4) {
		t.Errorf("log_level debug: want a logger enabled at debug")
	}
	o = SSHOptions(load("  forward_agent: false\n  log_level: fatal\n"))
	if o.ForwardAgent || o.Logger != nil {
		t.Errorf("forward_agent false / log_level fatal: got forward=%v logger=%v", o.ForwardAgent, o.Logger)
	}
	var buf bytes.Buffer
	sshLogger("warn", &buf).Info("hidden")
	sshLogger("warn", &buf).Warn("shown")
	if s := buf.String(); !strings.Contains(s, "shown") || strings.Contains(s, "hidden") {
		t.Errorf("warn logger wrote %q", s)
	}
}

func TestSSHLogLevelRefused(t *testing.T) {
	_, err := spec.LoadBytes(context.Background(), "config/deploy.yml",
		[]byte("service: app\nimage: app\nservers: [1.2.3.4]\nssh:\n  log_level: loud\n"), spec.LoadOptions{NoSecretsFiles: true})
	var ce *spec.Error
	if !errors.As(err, &ce) || ce.Line != 5 || ce.Key != "ssh.log_level" {
		t.Fatalf("want ssh.log_level error at line 5, got %v", err)
	}
}

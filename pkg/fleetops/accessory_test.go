package fleetops

import (
	"testing"

	"github.com/dockerkamal/docker-kamal/pkg/spec"
)

func TestAccessoryCommands(t *testing.T) {
	a := &spec.Accessory{Name: "db", Service: "app-db", Image: "postgres:15"}
	tests := []struct {
		name, got, want string
	}{
		{"exec passes the command line to the host shell", accessoryExecCommand("app-db", "pg_dump -U app app | gzip", false, false),
			"docker exec app-db pg_dump -U app app | gzip"},
		{"exec interactive", accessoryExecCommand("app-db", "psql", true, false), "docker exec -i -t app-db psql"},
		{"exec with stdin", accessoryExecCommand("app-db", "psql -U app", false, true), "docker exec -i app-db psql -U app"},
		{"restart", accessoryDockerCommand("restart", "app-db"), "docker restart app-db"},
		{"remove container", removeContainerCommand("app-db"),
			"docker stop app-db >/dev/null 2>&1; docker rm -f app-db >/dev/null 2>&1; ! docker inspect app-db >/dev/null 2>&1"},
		{"remove with data", removeAccessoryScript(a, "/root/app-db"),
			"docker stop app-db >/dev/null 2>&1; docker rm -f app-db >/dev/null 2>&1; ! docker inspect app-db >/dev/null 2>&1 && { docker image rm postgres:15 >/dev/null 2>&1; rm -rf /root/app-db; }"},
		{"ps exact name", containerPSCommand("app-db"),
			`docker ps -a --filter 'name=^app-db$' --format '{{.Names}}\t{{.Image}}\t{{.State}}\t{{.Status}}\t{{.Ports}}'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

package spec

import (
	"context"
	"testing"
)

func TestRoleOptions(t *testing.T) {
	cfg := okHead + "servers:\n  web:\n    hosts: [1.1.1.1]\n    options:\n      memory: 1g\n      cap-add: [NET_ADMIN]\n      health-cmd: curl -f localhost/up\n      init: true\n"
	c, err := Load(context.Background(), LoadOptions{Dir: writeApp(t, map[string]string{"config/deploy.yml": cfg}), Env: lookupIn(nil)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deploy("web", "1.1.1.1", "v1", "app:v1", "")
	if err != nil {
		t.Fatal(err)
	}
	o := d.Options
	if o.Memory != "1g" || len(o.Extra["cap-add"]) != 1 || o.Extra["health-cmd"][0] != "curl -f localhost/up" || o.Extra["init"][0] != "true" {
		t.Errorf("options %+v", o)
	}

	bad := okHead + "servers:\n  web:\n    hosts: [1.1.1.1]\n    options:\n      memory: 1g\n      network: host\n"
	_, err = Load(context.Background(), LoadOptions{Dir: writeApp(t, map[string]string{"config/deploy.yml": bad}), Env: lookupIn(nil)})
	got, ok := locate(err)
	if !ok || got.File != "config/deploy.yml" || got.Line != 8 || got.Key != "servers.web.options.network" {
		t.Fatalf("err %v, located %+v: want config/deploy.yml:8 servers.web.options.network", err, got)
	}
}

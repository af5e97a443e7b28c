package spec

import (
	"github.com/dockerkamal/docker-kamal/pkg/contract"
	"gopkg.in/yaml.v3"
)

// accessoryProxyKeys are the keys of accessories.*.proxy that Traefik
// honours for an accessory: its host names, the container port and the
// health check Traefik applies to it (pkg/traefik/routes.Accessory).
var accessoryProxyKeys = map[string]bool{"host": true, "hosts": true, "app_port": true, "healthcheck": true}

// accessoryHealthcheckKeys are the accepted keys of its healthcheck.
var accessoryHealthcheckKeys = map[string]bool{"path": true, "interval": true, "timeout": true}

// accessoryProxyCheck refuses what an accessory's Traefik route cannot
// honour: keys other than accessoryProxyKeys, a route without a host name
// (it would take every request of the host), and a network Traefik is not
// on.
func (b *builder) accessoryProxyCheck(name string, p *yaml.Node) error {
	path := "accessories." + name + ".proxy"
	if p.Kind != yaml.MappingNode {
		return b.t.errAt(p, path, "must be a mapping with host or hosts")
	}
	for i := 0; i+1 < len(p.Content); i += 2 {
		k := p.Content[i].Value
		if !accessoryProxyKeys[k] {
			return b.t.errAt(p.Content[i], path+"."+k, "not supported for an accessory (host, hosts, app_port and healthcheck are); run it as a role under servers: with proxy: for %s", k)
		}
	}
	if hc := mapGet(p, "healthcheck"); hc != nil && hc.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(hc.Content); i += 2 {
			if k := hc.Content[i].Value; !accessoryHealthcheckKeys[k] {
				return b.t.errAt(hc.Content[i], path+".healthcheck."+k, "not supported for an accessory (path, interval and timeout are)")
			}
		}
	}
	a := b.c.Accessory(name)
	if a == nil || a.Proxy == nil {
		return nil
	}
	if len(a.Proxy.Hosts) == 0 {
		return b.t.errAt(p, path, "needs host or hosts: an accessory's route is by host name")
	}
	if a.Network != contract.DefaultNetwork {
		return b.t.errAt(p, path, "the accessory must be on the %s network (Traefik's) to be routed, not %s", contract.DefaultNetwork, a.Network)
	}
	return nil
}

package spec

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// roleOptions are a role's `options:`: the docker run options of its app
// containers. Kamal passes any key to `docker run`; the sidecar creates
// containers through the engine API, so a key it cannot apply is refused
// here, at its line, instead of failing on every host mid-deploy.
type roleOptions options

// ownFieldOptions have fields of their own in contract.ContainerOptions.
var ownFieldOptions = []string{"cpus", "log-driver", "log-opt", "memory", "restart", "volume", "volumes"}

func (o *roleOptions) unmarshalNode(d *decoder, n *yaml.Node, path string) error {
	if err := (*options)(o).unmarshalNode(d, n, path); err != nil {
		return err
	}
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !supportedRoleOption(k.Value) {
			return d.t.errAt(k, joinPath(path, k.Value),
				"docker option %q is not supported for app containers (supported: %s); remove it or ask for it to be added",
				k.Value, strings.Join(append(append([]string(nil), ownFieldOptions...), contract.ExtraOptions...), ", "))
		}
	}
	return nil
}

func supportedRoleOption(name string) bool {
	for _, o := range ownFieldOptions {
		if o == name {
			return true
		}
	}
	return contract.IsExtraOption(name)
}
